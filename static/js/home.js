// Home page: turns the hero video list into a scroll-snap carousel with arrows and dots.
// Without this file the hero videos are a plain list and everything else still works.
(() => {
  const root = document.querySelector("[data-carousel]");
  const track = root && root.querySelector(".carousel-track");
  if (!track) return;
  const slides = Array.from(track.children);
  const videos = slides.map((slide) => slide.querySelector("video"));
  const controls = root.querySelector(".carousel-controls");
  const dots = Array.from(root.querySelectorAll("[data-carousel-dot]"));
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let current = 0;
  let timer = null;

  root.classList.add("is-carousel");
  if (controls) controls.hidden = false;

  const play = (video) => {
    if (!video) return;
    const attempt = video.play();
    if (attempt && attempt.catch) attempt.catch(() => {});
  };

  const show = (index) => {
    current = (index + slides.length) % slides.length;
    track.scrollTo({ left: slides[current].offsetLeft - track.offsetLeft, behavior: reduceMotion ? "auto" : "smooth" });
  };

  const mark = (index) => {
    current = index;
    dots.forEach((dot, i) => dot.setAttribute("aria-current", i === index ? "true" : "false"));
    videos.forEach((video, i) => (i === index ? play(video) : video && video.pause()));
  };

  // The slide most in view is the current one (scrolling by touch, arrows or dots all end here).
  const observer = new IntersectionObserver(
    (entries) => {
      entries.forEach((entry) => {
        if (entry.isIntersecting && entry.intersectionRatio >= 0.6) mark(slides.indexOf(entry.target));
      });
    },
    { root: track, threshold: [0.6] }
  );
  slides.forEach((slide) => observer.observe(slide));
  mark(0);

  const stopAuto = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  root.querySelector("[data-carousel-prev]")?.addEventListener("click", () => { stopAuto(); show(current - 1); });
  root.querySelector("[data-carousel-next]")?.addEventListener("click", () => { stopAuto(); show(current + 1); });
  dots.forEach((dot) => dot.addEventListener("click", () => { stopAuto(); show(Number(dot.dataset.carouselDot)); }));
  track.addEventListener("pointerdown", stopAuto, { once: true });
  root.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") { stopAuto(); show(current - 1); }
    if (event.key === "ArrowRight") { stopAuto(); show(current + 1); }
  });
  if (slides.length > 1 && !reduceMotion) timer = setInterval(() => show(current + 1), 7000);
})();
