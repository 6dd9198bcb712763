/** True when what is dragged holds files (not text or a link from the page itself). */
const carriesFiles = (event: DragEvent) => [...(event.dataTransfer?.types ?? [])].includes('Files');

/**
 * The whole page is the drop zone: files dropped anywhere are taken, and nothing dropped ever makes
 * the browser open it and leave the page. `overlay` shows while files are dragged over the page.
 */
export function takeDropsAnywhere(overlay: HTMLElement, take: (files: File[]) => void): void {
  // dragenter and dragleave fire for every child crossed: a count tells when the drag has left the page.
  let depth = 0;
  const show = (on: boolean) => {
    overlay.hidden = !on;
    document.body.classList.toggle('dragging', on);
  };
  document.addEventListener('dragenter', (event) => {
    event.preventDefault();
    if (!carriesFiles(event)) return;
    depth++;
    show(true);
  });
  document.addEventListener('dragover', (event) => {
    // Cancelling dragover is what makes a drop possible here, and stops the browser's own handling.
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = carriesFiles(event) ? 'copy' : 'none';
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) show(false);
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    show(false);
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length > 0) take(files);
  });
}
