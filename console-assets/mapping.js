// The cohort mapping builder: reads the chosen CSV's header in the browser (only the first 64 KB of
// the file) and offers the agent's variables with a column drop-down each; on upload it sends the
// transformation config it builds in place of a JSON file. Built with DOM calls only, no markup strings.

const form = document.getElementById('cohort-upload');
const HEAD_BYTES = 64 * 1024;

/** The first record of a CSV text: delimiter detected like the server does (, ; tab |), quotes honoured. */
export function parseHeader(text) {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = source.split(/\r?\n/, 1)[0] ?? '';
  const counts = [',', ';', '\t', '|'].map((d) => [d, firstLine.split(d).length - 1]);
  counts.sort((a, b) => b[1] - a[1]);
  const delimiter = counts[0][1] > 0 ? counts[0][0] : ',';
  const cells = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quoted) {
      if (c === '"' && source[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') break;
    else cell += c;
  }
  cells.push(cell);
  return cells.map((name) => name.trim()).filter((name) => name !== '');
}

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function columnSelect(id, columns, preferred, optional) {
  const select = element('select', { id });
  if (optional) select.append(element('option', { value: '', text: '— not mapped —' }));
  for (const column of columns) select.append(element('option', { value: column, text: column }));
  const match = columns.find((c) => preferred.some((p) => c.toLowerCase() === p.toLowerCase()));
  select.value = match ?? (optional ? '' : columns[0] ?? '');
  return select;
}

if (form) {
  const variables = JSON.parse(form.dataset.variables ?? '[]');
  const sourceBox = form.querySelector('.config-source');
  const fileBox = document.getElementById('config-file');
  const builder = document.getElementById('mapping-builder');
  const csvInput = document.getElementById('cohort_file');
  let columns = [];

  const mode = () => form.querySelector('input[name="config_source"]:checked')?.value ?? 'file';

  function render() {
    builder.replaceChildren();
    if (columns.length === 0) {
      builder.append(element('p', { class: 'hint', text: 'Choose the CSV file first: its header row gives the columns to pick from.' }));
      return;
    }
    const rows = [];
    const phone = columnSelect('map-phone', columns, ['phone_number', 'phone', 'mobile', 'phoneNumber'], false);
    const country = element('input', { id: 'map-country', maxlength: '2', size: '3', autocomplete: 'off', placeholder: 'country, e.g. IN', 'aria-label': 'Country of national numbers (optional; else the deployment default)' });
    rows.push(element('tr', {}, [element('th', { scope: 'row' }, [element('label', { for: 'map-phone', text: 'Phone number (required)' })]), element('td', {}, [phone]), element('td', {}, [country])]));
    const identifier = columnSelect('map-user-identifier', columns, ['user_identifier', 'customer_id', 'id'], true);
    rows.push(element('tr', {}, [element('th', { scope: 'row' }, [element('label', { for: 'map-user-identifier', text: 'User identifier' })]), element('td', {}, [identifier]), element('td')]));
    variables.forEach((variable, index) => {
      const id = `map-var-${index}`;
      const label = `${variable.name}${variable.required ? ' (required)' : ''}`;
      const fallbackId = `${id}-fallback`;
      rows.push(
        element('tr', {}, [
          element('th', { scope: 'row' }, [element('label', { for: id, text: label })]),
          element('td', {}, [columnSelect(id, columns, [variable.name], !variable.required)]),
          element('td', {}, [element('input', { id: fallbackId, 'data-fallback-for': variable.name, 'aria-label': `Value when ${variable.name} is empty (optional)`, placeholder: 'value when empty' })]),
        ]),
      );
    });
    const table = element('table', { class: 'mapping' }, [
      element('caption', { text: "Map the CSV's columns to the agent's variables" }),
      element('thead', {}, [element('tr', {}, [element('th', { scope: 'col', text: 'Variable' }), element('th', { scope: 'col', text: 'CSV column' }), element('th', { scope: 'col', text: 'Country / value when empty' })])]),
      element('tbody', {}, rows),
    ]);
    builder.append(element('div', { class: 'table-wrap' }, [table]));
  }

  /** The transformation config the builder describes. */
  function buildConfig() {
    const phone = document.getElementById('map-phone').value;
    const country = document.getElementById('map-country').value.trim().toUpperCase();
    const config = { phone_number: { column_name: phone, ...(country ? { country_code: country } : {}) } };
    const identifier = document.getElementById('map-user-identifier').value;
    if (identifier) config.user_identifier = { column_name: identifier, required: false };
    config.app_variables = {};
    variables.forEach((variable, index) => {
      const column = document.getElementById(`map-var-${index}`).value;
      const fallback = document.getElementById(`map-var-${index}-fallback`).value;
      if (column) config.app_variables[variable.name] = { column_name: column, ...(fallback ? { fallback_value: fallback } : {}) };
    });
    return config;
  }

  async function readColumns() {
    const file = csvInput.files?.[0];
    columns = file ? parseHeader(await file.slice(0, HEAD_BYTES).text()) : [];
    render();
  }

  function showMode() {
    const building = mode() === 'builder';
    builder.hidden = !building;
    fileBox.hidden = building;
    if (building) readColumns();
  }

  sourceBox.hidden = false;
  for (const radio of form.querySelectorAll('input[name="config_source"]')) radio.addEventListener('change', showMode);
  csvInput.addEventListener('change', () => {
    if (mode() === 'builder') readColumns();
  });

  form.addEventListener('roster:before-upload', (event) => {
    if (mode() !== 'builder') return;
    if (columns.length === 0) {
      event.preventDefault();
      const slot = form.querySelector('[data-error-for="cohort_transformation_file"]');
      slot.textContent = 'Choose the CSV file first, then map its columns.';
      slot.hidden = false;
      csvInput.focus();
      return;
    }
    const json = JSON.stringify(buildConfig());
    event.detail.formData.set('cohort_transformation_file', new Blob([json], { type: 'application/json' }), 'mapping.json');
  });
}
