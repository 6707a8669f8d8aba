// The studio's enhancements: drag-and-drop onto the drop zone, an instant local preview, the prompt counter.
// Without this file the form still works as a plain multipart POST.
(function () {
  function setup(root) {
    const form = root.querySelector ? root.querySelector("#studio-form") || (root.id === "studio-form" ? root : null) : null;
    if (!form || form.dataset.studio) return;
    form.dataset.studio = "1";
    const input = form.querySelector("#studio-file");
    const zone = form.querySelector("#dropzone");
    const prompt = form.querySelector("#studio-prompt");
    const counter = form.querySelector("#prompt-counter [data-count]");

    if (prompt && counter) {
      const update = () => {
        counter.textContent = prompt.value.length;
        counter.parentElement.classList.toggle("near-limit", prompt.value.length > 0.9 * prompt.maxLength);
      };
      prompt.addEventListener("input", update);
      update();
    }

    if (zone && input) {
      ["dragenter", "dragover"].forEach((name) =>
        zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("dragging"); }));
      ["dragleave", "drop"].forEach((name) =>
        zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.remove("dragging"); }));
      zone.addEventListener("drop", (event) => {
        const files = event.dataTransfer && event.dataTransfer.files;
        if (!files || !files.length) return;
        const transfer = new DataTransfer();
        transfer.items.add(files[0]);
        input.files = transfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      input.addEventListener("change", () => {
        const file = input.files && input.files[0];
        const slot = form.querySelector("#upload-slot");
        if (!file || !slot || !file.type.startsWith("image/")) return;
        // Show the picture at once; the server's answer replaces this with the stored one (or the reason it was refused).
        const url = URL.createObjectURL(file);
        slot.innerHTML = '<div class="upload-preview is-pending"><img alt="Your reference image (uploading)"><p class="muted">Uploading…</p></div>';
        slot.querySelector("img").src = url;
      });
    }
  }

  // The crop preview shows the chosen reference (an upload, or a trial image) in the placement's frame.
  function cropPreview() {
    const frame = document.getElementById("crop-preview");
    if (!frame) return;
    const img = frame.querySelector("img");
    const upload = document.getElementById("upload-preview-img");
    const trial = document.querySelector("input[name=trial_image_id]:checked");
    const trialImg = trial && trial.value ? trial.closest(".trial-option").querySelector("img") : null;
    const src = (upload && upload.getAttribute("src")) || (trialImg && trialImg.getAttribute("src")) || "";
    if (src) { img.src = src; img.hidden = false; } else { img.removeAttribute("src"); img.hidden = true; }
  }

  document.addEventListener("DOMContentLoaded", () => { setup(document); cropPreview(); });
  document.addEventListener("htmx:afterSettle", cropPreview);
  document.addEventListener("change", (event) => {
    if (event.target.name === "trial_image_id") setTimeout(cropPreview, 0);  // after the upload slot is cleared
  });
  document.addEventListener("htmx:load", (event) => setup(event.detail.elt));

  // After the upload is stored, the file need not travel again with the form; a stored upload replaces a trial image.
  document.addEventListener("htmx:afterRequest", (event) => {
    const input = document.getElementById("studio-file");
    if (event.detail.elt !== input) return;
    if (event.detail.successful) {
      input.value = "";
      const none = document.querySelector(".trial-none input");
      if (none && document.querySelector("#upload-slot [name=reference_upload_id]")) none.checked = true;
    }
  });

  document.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove-upload]");
    if (!remove) return;
    const slot = document.getElementById("upload-slot");
    if (slot) slot.innerHTML = "";
    const input = document.getElementById("studio-file");
    if (input) input.value = "";
    cropPreview();
  });

  // Picking a trial image drops an uploaded one, so the form always says which picture it means.
  document.addEventListener("change", (event) => {
    if (event.target.name === "trial_image_id" && event.target.value) {
      const slot = document.getElementById("upload-slot");
      if (slot) slot.innerHTML = "";
    }
  });
})();
