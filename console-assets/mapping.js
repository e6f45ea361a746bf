// The cohort mapping builder. When a CSV is chosen it posts the file's first 64 KB to the server,
// which reads the header row and suggests a mapping by name (the API's own matching code, so the
// console and POST …/cohorts/mapping-suggestion never disagree). Nothing is mapped by position:
// a required variable without a column named like it starts unmapped, and the form will not submit
// until one is chosen. Each variable can take format functions (from the server's catalogue) and
// the overrides can be mapped; the config is shown live and offered as config.json.
// Built with DOM calls only, no markup strings.

const form = document.getElementById('cohort-upload');
const HEAD_BYTES = 64 * 1024;
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** A column drop-down that starts on `chosen`, or on its empty option. */
function columnSelect(id, columns, chosen, emptyText) {
  const select = element('select', { id, 'aria-describedby': `${id}-error` });
  select.append(element('option', { value: '', text: emptyText }));
  for (const column of columns) select.append(element('option', { value: column, text: column }));
  select.value = chosen ?? '';
  return select;
}

const errorSlot = (id) => element('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': id, hidden: '' });
const matchedMark = (column) =>
  element('span', { class: 'badge badge-matched', title: `The column '${column}' has this variable's name` }, [
    'matched by name',
  ]);

/** An option's control, from the catalogue's description of its type. */
function optionControl(id, option) {
  const props = { id, 'data-option': option.name, 'data-type': option.type, title: option.description };
  if (option.type === 'boolean') return element('input', { ...props, type: 'checkbox' });
  if (option.type.startsWith('integer')) return element('input', { ...props, type: 'number', min: '0', max: '10' });
  if (option.type === 'object')
    return element('input', { ...props, placeholder: '{"in file": "stored"}', 'aria-describedby': `${id}-error` });
  if (option.type === 'string[]') return element('input', { ...props, placeholder: 'comma, separated' });
  return element('input', { ...props, placeholder: option.description.slice(0, 40) });
}

/** An option's value for the config; undefined when left empty. Throws a message for a map that is not JSON. */
function optionValue(control) {
  const type = control.dataset.type;
  if (type === 'boolean') return control.checked ? true : undefined;
  const text = control.value.trim();
  if (text === '') return type.includes("''") && control.value !== '' ? control.value : undefined;
  if (type.startsWith('integer')) return Number(text);
  if (type === 'string[]')
    return text
      .split(',')
      .map((word) => word.trim())
      .filter(Boolean);
  if (type === 'object') {
    const parsed = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed;
  }
  return control.value;
}

if (form) {
  const variables = JSON.parse(form.dataset.variables ?? '[]');
  const formats = JSON.parse(form.dataset.formats ?? '[]');
  const overrides = JSON.parse(form.dataset.overrides ?? '[]');
  const suggestUrl = form.dataset.suggestUrl;
  const sourceBox = form.querySelector('.config-source');
  const fileBox = document.getElementById('config-file');
  const builder = document.getElementById('mapping-builder');
  const csvInput = document.getElementById('cohort_file');
  let columns = [];
  let stepCount = 0;

  const mode = () => form.querySelector('input[name="config_source"]:checked')?.value ?? 'file';

  /** One format step: the function, then an input per option the catalogue lists for it. */
  function formatStep(list) {
    const id = `fmt-${++stepCount}`;
    const fn = element('select', { id, 'data-step-fn': '', 'aria-label': 'Format function' });
    for (const f of formats) fn.append(element('option', { value: f.name, text: f.name, title: f.summary }));
    const optionsBox = element('span', { class: 'step-options' });
    const showOptions = () => {
      const def = formats.find((f) => f.name === fn.value);
      optionsBox.replaceChildren(
        ...(def?.options ?? []).map((option) => {
          const optionId = `${id}-${option.name}`;
          return element('label', { class: 'inline step-option', for: optionId }, [
            `${option.name} `,
            optionControl(optionId, option),
            errorSlot(optionId),
          ]);
        }),
      );
      update();
    };
    fn.addEventListener('change', showOptions);
    const remove = element('button', { type: 'button', class: 'secondary', 'aria-label': 'Remove this step' }, [
      'Remove',
    ]);
    const step = element('li', { class: 'format-step' }, [fn, ' ', optionsBox, ' ', remove]);
    remove.addEventListener('click', () => {
      step.remove();
      update();
    });
    list.append(step);
    showOptions();
    fn.focus();
  }

  function formatCell(variableId) {
    const list = element('ol', { class: 'format-steps', id: `${variableId}-format` });
    const add = element('button', { type: 'button', class: 'secondary', 'data-add-format': variableId }, [
      'Add format step',
    ]);
    add.addEventListener('click', () => formatStep(list));
    return element('td', {}, [list, add]);
  }

  function variableRow(id, label, chosen, required, fallbackFor, withFormat) {
    const cells = [
      element('th', { scope: 'row' }, [element('label', { for: id, text: label })]),
      element('td', {}, [
        columnSelect(id, columns, chosen, required ? '— choose a column —' : '— not mapped —'),
        ...(chosen ? [' ', matchedMark(chosen)] : []),
        errorSlot(id),
      ]),
      element('td', {}, [
        element('input', {
          id: `${id}-fallback`,
          'aria-label': `Value when ${fallbackFor} is empty (optional)`,
          placeholder: 'value when empty',
        }),
      ]),
    ];
    if (withFormat) cells.push(formatCell(id));
    else cells.push(element('td'));
    return element('tr', { 'data-required': required ? 'true' : 'false', 'data-variable': fallbackFor }, cells);
  }

  function table(caption, headings, rows) {
    return element('div', { class: 'table-wrap' }, [
      element('table', { class: 'mapping' }, [
        element('caption', { text: caption }),
        element('thead', {}, [
          element(
            'tr',
            {},
            headings.map((text) => element('th', { scope: 'col', text })),
          ),
        ]),
        element('tbody', {}, rows),
      ]),
    ]);
  }

  function render(answer) {
    builder.replaceChildren();
    if (!answer) {
      builder.append(
        element('p', {
          class: 'hint',
          text: 'Choose the CSV file first: its header row gives the columns to pick from.',
        }),
      );
      return;
    }
    columns = answer.columns;
    const matchOf = new Map(answer.matched.map((m) => [m.variable, m.column]));
    const phone = variableRow(
      'map-phone',
      'Phone number (required)',
      matchOf.get('phone_number'),
      true,
      'phone_number',
      false,
    );
    // The phone row has no fallback: its third cell takes the country instead.
    phone.children[2].replaceChildren(
      element('input', {
        id: 'map-country',
        maxlength: '2',
        size: '3',
        autocomplete: 'off',
        placeholder: 'country, e.g. IN',
        'aria-label': 'Country of national numbers (optional; else the deployment default)',
      }),
    );
    const identifier = element('tr', {}, [
      element('th', { scope: 'row' }, [element('label', { for: 'map-user-identifier', text: 'User identifier' })]),
      element('td', {}, [columnSelect('map-user-identifier', columns, undefined, '— not mapped —')]),
      element('td'),
      element('td'),
    ]);
    const rows = [phone, identifier];
    variables.forEach((variable, index) => {
      const label = `${variable.name}${variable.required ? ' (required)' : ''}`;
      rows.push(
        variableRow(`map-var-${index}`, label, matchOf.get(variable.name), variable.required, variable.name, true),
      );
    });
    const overrideRows = overrides.map((name, index) =>
      variableRow(`map-ovr-${index}`, name, undefined, false, name, false),
    );
    const unmapped = answer.unmapped_required;
    builder.append(
      element('p', { class: 'hint', id: 'mapping-summary' }, [
        unmapped.length === 0
          ? 'Every required variable has a column named like it: check the matches before uploading.'
          : `Choose a column for: ${unmapped.join(', ')}. Nothing is mapped by position; only columns named like a variable are pre-selected.`,
      ]),
      table(
        "Map the CSV's columns to the agent's variables",
        ['Variable', 'CSV column', 'Country / value when empty', 'Format'],
        rows,
      ),
      table(
        'Overrides (optional), each read from a column',
        ['Override', 'CSV column', 'Value when empty', ''],
        overrideRows,
      ),
      element('h3', { text: 'The transformation config' }),
      element('pre', { id: 'mapping-json', class: 'config-json', 'aria-live': 'polite' }),
      element('p', {}, [
        element('button', { type: 'button', class: 'secondary', id: 'mapping-download' }, ['Download config.json']),
      ]),
    );
    document.getElementById('mapping-download').addEventListener('click', download);
    update();
  }

  function formatOf(variableId) {
    const steps = [...document.querySelectorAll(`#${variableId}-format > li`)].map((step) => {
      const fn = step.querySelector('[data-step-fn]').value;
      const spec = { fn };
      for (const control of step.querySelectorAll('[data-option]')) {
        let value;
        try {
          value = optionValue(control);
        } catch {
          throw {
            field: control.id,
            message: `Option ${control.dataset.option} must be a JSON object, like {"M": "Male"}.`,
          };
        }
        if (value !== undefined) spec[control.dataset.option] = value;
      }
      return Object.keys(spec).length === 1 ? fn : spec;
    });
    return steps.length === 0 ? undefined : steps.length === 1 ? steps[0] : steps;
  }

  function mappingOf(id) {
    const column = document.getElementById(id).value;
    if (!column) return undefined;
    const fallback = document.getElementById(`${id}-fallback`)?.value ?? '';
    return { column_name: column, ...(fallback ? { fallback_value: fallback } : {}) };
  }

  /** The transformation config the builder describes; throws {field, message} for an option it cannot read. */
  function buildConfig() {
    const country = document.getElementById('map-country').value.trim().toUpperCase();
    const config = {
      phone_number: {
        column_name: document.getElementById('map-phone').value,
        ...(country ? { country_code: country } : {}),
      },
    };
    const identifier = document.getElementById('map-user-identifier').value;
    if (identifier) config.user_identifier = { column_name: identifier, required: false };
    config.app_variables = {};
    variables.forEach((variable, index) => {
      const mapping = mappingOf(`map-var-${index}`);
      const format = formatOf(`map-var-${index}`);
      if (mapping) config.app_variables[variable.name] = { ...mapping, ...(format ? { format } : {}) };
    });
    const appOverrides = {};
    overrides.forEach((name, index) => {
      const mapping = mappingOf(`map-ovr-${index}`);
      if (mapping) appOverrides[name] = mapping;
    });
    if (Object.keys(appOverrides).length > 0) config.app_overrides = appOverrides;
    return config;
  }

  function update() {
    const pre = document.getElementById('mapping-json');
    if (!pre) return;
    try {
      pre.textContent = JSON.stringify(buildConfig(), null, 2);
    } catch (problem) {
      pre.textContent = `// ${problem.message ?? problem}`;
    }
  }

  function download() {
    const url = URL.createObjectURL(new Blob([JSON.stringify(buildConfig(), null, 2)], { type: 'application/json' }));
    const link = element('a', { href: url, download: 'config.json', hidden: '' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async function readColumns() {
    const file = csvInput.files?.[0];
    if (!file) {
      render(undefined);
      return;
    }
    const data = new FormData();
    data.set('cohort_file', file.slice(0, HEAD_BYTES), file.name);
    let answer;
    try {
      const response = await fetch(suggestUrl, {
        method: 'POST',
        body: data,
        credentials: 'same-origin',
        headers: { accept: 'application/json', 'x-csrf-token': csrfToken },
      });
      answer = await response.json();
      if (!response.ok) throw new Error(answer?.error?.message ?? `The server answered ${response.status}.`);
    } catch (problem) {
      columns = [];
      builder.replaceChildren(
        element('p', {
          class: 'field-error',
          role: 'alert',
          text: `The CSV's header could not be read: ${problem.message}`,
        }),
      );
      return;
    }
    render(answer);
    builder.dataset.ready = 'true';
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
    delete builder.dataset.ready;
    if (mode() === 'builder') readColumns();
  });
  builder.addEventListener('input', update);
  builder.addEventListener('change', (event) => {
    // A refused choice, now made: its message goes.
    const control = event.target;
    if (control.getAttribute?.('aria-invalid') === 'true' && control.value !== '') {
      control.removeAttribute('aria-invalid');
      const slot = form.querySelector(`[data-error-for="${CSS.escape(control.id)}"]`);
      if (slot) slot.hidden = true;
    }
    update();
  });

  function refuse(event, field, message) {
    event.preventDefault();
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    slot.textContent = message;
    slot.hidden = false;
    const control = document.getElementById(field);
    control?.setAttribute('aria-invalid', 'true');
    control?.focus();
  }

  form.addEventListener('roster:before-upload', (event) => {
    if (mode() !== 'builder') return;
    if (columns.length === 0) {
      refuse(event, 'cohort_transformation_file', 'Choose the CSV file first, then map its columns.');
      csvInput.focus();
      return;
    }
    // Every required row without a column is marked; the first one gets the focus.
    const unmapped = [...builder.querySelectorAll('tr[data-required="true"]')].filter(
      (row) => row.querySelector('select').value === '',
    );
    for (const row of unmapped.reverse()) {
      const select = row.querySelector('select');
      refuse(event, select.id, `Choose the column that holds ${row.dataset.variable}; it is required.`);
    }
    if (unmapped.length > 0) return;
    let config;
    try {
      config = buildConfig();
    } catch (problem) {
      refuse(event, problem.field, problem.message);
      return;
    }
    event.detail.formData.set(
      'cohort_transformation_file',
      new Blob([JSON.stringify(config)], { type: 'application/json' }),
      'config.json',
    );
  });
}
