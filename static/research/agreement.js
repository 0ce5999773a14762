// The hand-label form (templates/research/_agreement.html): a file over the limit is refused here, before
// it is sent; everything else about the file is checked by the server, which names the lines at fault.
(function () {
  const form = document.getElementById("labels-form");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const error = document.getElementById("labels-error");
  const limit = Number(form.dataset.maxBytes);

  function check() {
    const file = input.files[0];
    const tooBig = file && file.size > limit;
    error.hidden = !tooBig;
    error.textContent = tooBig ? `${file.name} is ${(file.size / 1048576).toFixed(1)} MB; hand labels may be at most ` +
      `${limit / 1048576} MB.` : "";
    return !tooBig;
  }
  input.addEventListener("change", check);
  form.addEventListener("submit", (ev) => { if (!check()) ev.preventDefault(); });
})();
