// The portal's few enhancements; every page works without them.
//
// Menus and filters that fold away on a phone (details[data-open-wide]) start open on a wider screen;
// filters in use (the page says so with "open") stay open on a phone too.
const wide = window.matchMedia("(min-width: 48rem)");
for (const details of document.querySelectorAll("details[data-open-wide]")) {
  details.open = wide.matches || details.open;
}
wide.addEventListener("change", () => {
  if (!wide.matches) return;
  for (const details of document.querySelectorAll("details[data-open-wide]")) details.open = true;
});

// On a phone, each row of a list table becomes a card: every cell is labelled with its column's
// heading (portal.css shows the label beside the value under 48rem). Tables of figures (class
// "stat") keep their grid and scroll inside their own focusable region instead. Without JavaScript
// a table is still a table, and scrolls inside its box.
for (const table of document.querySelectorAll("main table:not(.stat)")) {
  const heads = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
  if (!heads.length) continue;
  for (const row of table.querySelectorAll("tbody tr, tfoot tr")) {
    let column = 0;
    for (const cell of row.children) {
      const label = heads[column];
      if (label && !cell.hasAttribute("data-label") && !cell.hasAttribute("colspan")) {
        cell.dataset.label = label;
      }
      column += Number(cell.getAttribute("colspan") || 1);
    }
  }
  table.classList.add("stackable");
}
