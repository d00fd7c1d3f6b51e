// Adapter and device acquisition: ask for the adapter's own buffer and workgroup limits (the defaults
// are 128 MiB bindings and, on compatibility adapters, 128 invocations), and describe the adapter honestly.
import type { DeviceShape } from './dispatch.ts';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  isFallback: boolean;
  /** e.g. "google swiftshader", "nvidia hopper" */
  name: string;
}

export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  summary: AdapterSummary;
  shape: DeviceShape;
  maxBindingBytes: number;
  hasTimestamps: boolean;
}

/** A TypeError unless gpu is what requestGpu gives: an engine's first argument, checked before any GPU call. */
export function requireGpuContext(gpu: unknown): asserts gpu is GpuContext {
  const device = (gpu as Partial<GpuContext> | null | undefined)?.device;
  if (typeof gpu !== 'object' || gpu === null || typeof device !== 'object' || device === null) {
    throw new TypeError(`gpu: expected the context requestGpu() gives, got ${gpu === null ? 'null' : typeof gpu === 'object' ? 'an object without a device' : typeof gpu}`);
  }
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i;

/** Deno/wgpu reports the PCI vendor id as a decimal string: name the common ones. */
const PCI_VENDORS: Record<string, string> = {
  '4318': 'nvidia', '4098': 'amd', '32902': 'intel', '4203': 'apple', '5045': 'arm', '20803': 'qualcomm', '65541': 'mesa',
};

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const rawVendor = info.vendor ?? '';
  const vendor = PCI_VENDORS[rawVendor] ?? rawVendor;
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  const legacyFlag = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const flagged = (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? legacyFlag ?? false;
  const isFallback = flagged || SOFTWARE.test(`${vendor} ${architecture} ${description}`);
  const named = [vendor, architecture].filter(Boolean).join(' ');
  // A bare vendor name says little when the description names the device (e.g. "NVIDIA H100 80GB HBM3").
  const name = (architecture ? named : [named, description].filter(Boolean).join(' ')) || 'unknown adapter';
  return { vendor, architecture, description, isFallback, name };
}

export async function requestGpu(gpu: GPU | undefined = globalThis.navigator?.gpu, options: GPURequestAdapterOptions = {}): Promise<GpuContext> {
  if (!gpu) throw new Error('WebGPU is not available here (navigator.gpu is missing)');
  if (typeof gpu.requestAdapter !== 'function') throw new TypeError(`gpu: expected navigator.gpu (an object with requestAdapter), got ${typeof gpu} without requestAdapter`);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', ...options });
  if (!adapter) throw new Error('WebGPU: no adapter was found');
  const l = adapter.limits;
  // subgroups: the model engine's quad-broadcast product kernels are tuning candidates only where it exists.
  const requiredFeatures = (['timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    label: 'nabla.device',
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  const dl = device.limits;
  return {
    adapter,
    device,
    summary: summarizeAdapter(adapter),
    shape: {
      maxWorkgroupSize: Math.min(dl.maxComputeInvocationsPerWorkgroup, dl.maxComputeWorkgroupSizeX),
      maxWorkgroupsPerDimension: dl.maxComputeWorkgroupsPerDimension,
      maxWorkgroupStorageSize: dl.maxComputeWorkgroupStorageSize,
    },
    maxBindingBytes: Math.min(dl.maxStorageBufferBindingSize, dl.maxBufferSize),
    hasTimestamps: device.features.has('timestamp-query'),
  };
}
