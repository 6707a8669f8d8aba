// Small progressive enhancements; every page works without this file.
document.addEventListener("click", (event) => {
  const close = event.target.closest(".toast-close");
  if (close) close.parentElement.remove();
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
