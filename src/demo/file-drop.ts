// A file picker and a drop zone that hand the page one File: the picker's choice or the first file dropped.
// The picker is cleared after each choice, so that choosing the same file again fires again.
export function onFileChosen(input: HTMLInputElement, zone: HTMLElement, handler: (file: File) => void): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) handler(file);
    input.value = '';
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const file = e.dataTransfer?.files?.[0];
    if (file) handler(file);
  });
}
