// "Print this page". Without JavaScript such a button could do nothing (the browser's own
// Print still works), so the page holds it in a <template data-circle-print>, which shows
// nothing; this module, loaded as <script type="module">, puts the button in its place.
for (const template of document.querySelectorAll("template[data-circle-print]")) {
  const button = template.content.firstElementChild.cloneNode(true);
  button.addEventListener("click", () => window.print());
  template.replaceWith(button);
}
