// Small progressive enhancements; every page works without this file.
document.addEventListener("click", (event) => {
  const close = event.target.closest(".toast-close");
  if (close) close.parentElement.remove();
});
// A form with data-confirm asks first (no inline handlers: the CSP allows only our own scripts).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
// Toasts fade out on their own after a while.
document.addEventListener("htmx:afterSettle", () => {
  document.querySelectorAll(".toast:not([data-timer])").forEach((toast) => {
    toast.dataset.timer = "1";
    setTimeout(() => toast.remove(), 8000);
  });
});
// Live progress: the elapsed time of an in-flight video ticks between server updates.
setInterval(() => {
  document.querySelectorAll("[data-elapsed-since]").forEach((el) => {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.elapsedSince)) / 1000));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const pad = (n) => String(n).padStart(2, "0");
    el.textContent = h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  });
}, 1000);
// Phones: the header's page links fold into a menu behind one button (without this file they wrap instead).
document.querySelectorAll("[data-site-header]").forEach((header) => {
  const toggle = header.querySelector(".nav-toggle");
  if (!toggle) return;
  header.classList.add("js-nav");
  toggle.hidden = false;
  const setOpen = (open) => {
    header.classList.toggle("menu-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => setOpen(!header.classList.contains("menu-open")));
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") setOpen(false); });
  document.addEventListener("click", (event) => { if (!header.contains(event.target)) setOpen(false); });
});
