// Roster console: progressive enhancement only. Every page works without this script; with it,
// uploads show a progress bar and their result in place, and a processing cohort updates by itself.

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Shows a message next to the field it concerns (or at the top of the form) and moves focus there. */
function showError(form, field, message) {
  const slot = field ? form.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
  if (slot) {
    slot.textContent = message;
    slot.hidden = false;
    const control = form.querySelector(`#${CSS.escape(field)}`) ?? form.querySelector(`[name="${CSS.escape(field)}"]`);
    control?.setAttribute('aria-invalid', 'true');
    (control ?? slot).focus?.();
    return;
  }
  const box = generalBox(form);
  box.textContent = message;
  box.hidden = false;
  box.focus();
}

function generalBox(form) {
  let box = form.querySelector('.error[data-general]');
  if (!box) {
    box = document.createElement('div');
    box.className = 'error';
    box.setAttribute('role', 'alert');
    box.setAttribute('tabindex', '-1');
    box.dataset.general = '';
    form.prepend(box);
  }
  return box;
}

function clearErrors(form) {
  for (const slot of form.querySelectorAll('[data-error-for]')) {
    slot.hidden = true;
    slot.textContent = '';
  }
  for (const control of form.querySelectorAll('[aria-invalid="true"]')) control.removeAttribute('aria-invalid');
  for (const box of form.querySelectorAll('.error')) box.remove();
}

/** Polls a cohort's status fragment until it is completed or failed. */
export function watchStatus(region, url) {
  const tick = async () => {
    let body;
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (response.status === 401) {
        region.textContent = 'Your session has ended; sign in again to see the status.';
        return;
      }
      body = await response.json();
    } catch {
      setTimeout(tick, 3000);
      return;
    }
    region.innerHTML = body.html; // rendered and escaped by the server
    if (body.done) {
      region.dataset.done = body.status;
      return;
    }
    setTimeout(tick, 1000);
  };
  tick();
}

function upload(form, event) {
  event.preventDefault();
  // "Check file" posts the same form to its dry run (formaction): the answer shows in place, nothing is uploaded.
  const submitter = event.submitter;
  const checking = submitter?.hasAttribute('data-check') === true;
  const action = submitter?.hasAttribute('formaction') ? submitter.formAction : form.action;
  clearErrors(form);
  // A file over the server's limit is refused here, before minutes of uploading end in a 413.
  for (const input of form.querySelectorAll('input[type="file"][data-max-bytes]')) {
    const file = input.files?.[0];
    const max = Number(input.dataset.maxBytes);
    if (file && max > 0 && file.size > max) {
      showError(form, input.id, `This file is ${formatBytes(file.size)}; the largest accepted is ${formatBytes(max)}.`);
      return;
    }
  }
  const data = new FormData(form);
  const before = new CustomEvent('roster:before-upload', { cancelable: true, detail: { formData: data } });
  if (!form.dispatchEvent(before)) return;
  const buttons = [...form.querySelectorAll('button[type="submit"]')];
  const progressBox = form.querySelector('.upload-progress');
  const bar = progressBox?.querySelector('progress');
  const text = progressBox?.querySelector('.progress-text');
  for (const button of buttons) button.disabled = true;
  if (progressBox) progressBox.hidden = false;

  const xhr = new XMLHttpRequest();
  xhr.open('POST', action);
  xhr.setRequestHeader('accept', 'application/json');
  xhr.setRequestHeader('x-csrf-token', csrfToken);
  xhr.responseType = 'json';
  xhr.upload.addEventListener('progress', (progress) => {
    if (!progress.lengthComputable || !bar) return;
    const percent = Math.round((progress.loaded / progress.total) * 100);
    bar.value = percent;
    if (text) text.textContent = `${percent}% · ${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}`;
  });
  xhr.upload.addEventListener('load', () => {
    if (bar) bar.value = 100;
    if (text) text.textContent = 'Uploaded; checking the file…';
  });
  xhr.addEventListener('load', () => {
    for (const button of buttons) button.disabled = false;
    const body = xhr.response ?? {};
    if (xhr.status >= 200 && xhr.status < 300) {
      if (checking) {
        showCheck(form, body);
        return;
      }
      if (body.redirect) {
        window.location.assign(body.redirect);
        return;
      }
      showResult(form, body);
      return;
    }
    if (progressBox) progressBox.hidden = true;
    if (xhr.status === 401) {
      showError(form, null, 'Your session has ended; sign in again (in another tab) and retry.');
      return;
    }
    if (body.html) {
      const box = generalBox(form);
      box.innerHTML = body.html; // rendered and escaped by the server
      box.focus();
    }
    const fields = body.fields ?? (body.field ? { [body.field]: body.error?.message } : {});
    const named = Object.entries(fields).filter(([field]) =>
      form.querySelector(`[data-error-for="${CSS.escape(field)}"]`),
    );
    for (const [field, message] of named.reverse()) showError(form, field, message);
    if (named.length === 0 && !body.html)
      showError(form, null, body.error?.message ?? `The upload failed (HTTP ${xhr.status}).`);
  });
  xhr.addEventListener('error', () => {
    for (const button of buttons) button.disabled = false;
    if (progressBox) progressBox.hidden = true;
    showError(form, null, 'The upload did not reach the server; check the connection and try again.');
  });
  xhr.send(data);
}

/** After "Check file": what an upload would import and reject, in place; the form keeps its files for the upload. */
function showCheck(form, body) {
  const section = document.getElementById('upload-result');
  const progressBox = form.querySelector('.upload-progress');
  if (progressBox) progressBox.hidden = true;
  if (!section) return;
  section.replaceChildren();
  const heading = document.createElement('h2');
  heading.textContent = 'Check';
  const region = document.createElement('div');
  region.id = 'check-result';
  region.innerHTML = body.html; // rendered and escaped by the server
  section.append(heading, region);
  section.hidden = false;
  heading.setAttribute('tabindex', '-1');
  heading.focus();
}

/** After a cohort upload: its status in place, live until completed or failed, with a link to its page. */
function showResult(form, body) {
  const section = document.getElementById('upload-result');
  if (!section) {
    window.location.assign(body.cohort_url);
    return;
  }
  section.replaceChildren();
  const heading = document.createElement('h2');
  heading.textContent = 'Processing';
  const region = document.createElement('div');
  region.id = 'cohort-status';
  region.setAttribute('aria-live', 'polite');
  region.innerHTML = body.html; // rendered and escaped by the server
  const link = document.createElement('a');
  link.href = body.cohort_url;
  link.textContent = 'Open the cohort page';
  const p = document.createElement('p');
  p.append(link);
  section.append(heading, region, p);
  section.hidden = false;
  heading.setAttribute('tabindex', '-1');
  heading.focus();
  form.reset();
  const progressBox = form.querySelector('.upload-progress');
  if (progressBox) progressBox.hidden = true;
  if (!body.done) watchStatus(region, `${body.cohort_url}/status`);
  else region.dataset.done = body.status;
  const observer = new MutationObserver(() => {
    if (region.dataset.done) {
      heading.textContent = region.dataset.done === 'completed' ? 'Completed' : 'Failed';
      observer.disconnect();
    }
  });
  observer.observe(region, { attributes: true });
  if (body.done) heading.textContent = body.status === 'completed' ? 'Completed' : 'Failed';
}

// Mark where we are in the section navigation for screen readers and the eye.
for (const link of document.querySelectorAll('nav.tabs a')) {
  if (link.pathname === window.location.pathname) link.setAttribute('aria-current', 'page');
}

for (const form of document.querySelectorAll('form[data-upload]'))
  form.addEventListener('submit', (event) => upload(form, event));

for (const region of document.querySelectorAll('[data-status-url]')) watchStatus(region, region.dataset.statusUrl);

// The browser's own zone is the likeliest calling window zone when the form starts blank.
for (const select of document.querySelectorAll('select[data-default-zone="browser"]')) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if ([...select.options].some((option) => option.value === zone)) select.value = zone;
}
