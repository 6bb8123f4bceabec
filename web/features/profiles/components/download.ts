/** Saves `text` as a file named `name` through the browser's download (no server round trip). */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The click has started the download by the next task; the URL can go.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
