// Small page actions, without a framework: copy a value to the clipboard, print the page.
// Buttons say what they do; without JavaScript the value is still there to select and copy by hand.
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        copy.dataset.label = copy.dataset.label || copy.textContent;
        copy.textContent = copy.dataset.copied || copy.dataset.label;
        setTimeout(() => { copy.textContent = copy.dataset.label; }, 2000);
      });
    }
    return;
  }
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
