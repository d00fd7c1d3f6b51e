// The streamed-data panel's markup, built here rather than in index.html so that this feature lives in
// src/demo/data-source/ alone; main.ts only mounts it.
export const ACCEPT = '.csv,.json,.jsonl,.ndjson,.parquet,.arrow,.arrows,.feather,.f32';

export const PANEL_HTML = `
<h2 id="stream-h">Data larger than memory: stream a file or a URL</h2>
<p class="hint">CSV, JSON, Parquet, Arrow IPC or nabla's raw <code>.f32</code>, from your disk or an
http(s) URL read by range requests. Only the schema is read until you press Train; then, as
<code>nabla train --stream</code>: one pass for the row count and the standardization statistics, one pass per
epoch over the file in chunks, one for the final loss. The page never holds the file, only a few chunks.</p>
<div id="stream-drop" class="drop-zone">
  <label for="stream-file">Choose a file</label>
  <input id="stream-file" type="file" accept="${ACCEPT}" />
  <p class="hint">…or drop one here.</p>
</div>
<form id="stream-url-form" class="stream-row">
  <label for="stream-url">URL</label>
  <input id="stream-url" type="url" placeholder="https://example.org/data.parquet" spellcheck="false" />
  <button id="stream-open" type="submit">Open</button>
</form>
<p id="stream-error" class="error" role="alert" hidden></p>
<div id="stream-schema" hidden>
  <p id="stream-about" class="note"></p>
  <div class="grid2">
    <label for="stream-target">Target column</label>
    <select id="stream-target"></select>
  </div>
  <fieldset id="stream-features"><legend>Features</legend></fieldset>
  <div class="grid2">
    <label for="stream-lr">Learning rate η (SGD)</label>
    <input id="stream-lr" type="number" min="0" step="any" value="0.3" />
    <label for="stream-epochs">Epochs</label>
    <input id="stream-epochs" type="number" min="1" max="1000" step="1" value="5" />
    <label for="stream-batch">Batch</label>
    <select id="stream-batch">
      <option value="full">full batch</option>
      <option value="256">256</option>
      <option value="1024">1024</option>
      <option value="4096" selected>4096</option>
      <option value="16384">16384</option>
    </select>
    <label for="stream-chunk">Chunk (MB)</label>
    <input id="stream-chunk" type="number" min="1" max="256" step="1" value="16" />
  </div>
  <button id="stream-train" type="button">Train</button>
  <button id="stream-stop" type="button" disabled>Stop</button>
</div>
<p id="stream-status" class="status" role="status" aria-live="polite"></p>
<dl class="readout">
  <dt>Pass</dt><dd><output id="stream-epoch">—</output></dd>
  <dt>Read this pass</dt><dd><output id="stream-bytes">—</output></dd>
  <dt>Rows this pass</dt><dd><output id="stream-rows">—</output></dd>
  <dt>Speed</dt><dd><output id="stream-rate">—</output></dd>
  <dt>Loss (standardized)</dt><dd><output id="stream-loss">—</output></dd>
</dl>
<ol id="stream-losses" class="stream-losses"></ol>
`;
