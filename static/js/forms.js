// Form behaviour declared in the markup, so that no page needs an inline event handler (the
// Content-Security-Policy allows this site's script files only):
//   <form data-confirm="Delete this?">  asks before submitting;
//   <form data-no-submit>              never submits (its controls act through script).
document.addEventListener("submit", (ev) => {
  const form = ev.target;
  if (form.hasAttribute("data-no-submit") || (form.dataset.confirm && !window.confirm(form.dataset.confirm))) {
    ev.preventDefault();
  }
});
