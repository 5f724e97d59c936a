// Shared by this plugin's other modules (served because it lies under ui/; imported
// relatively, or as "@plugins/hello-wasm/ui/words.js" through the page's import map).
export function counted(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
