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
