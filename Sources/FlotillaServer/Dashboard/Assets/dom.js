// @ts-check
// Building the page: elements from text only (textContent, never HTML), redraw guards, dialogs, keyboard access.

const SVG = 'http://www.w3.org/2000/svg';

/**
 * An element (`svg:` for SVG ones) with attributes (`on…` are listeners, `text` is its text) and children.
 * @param {string} tag
 * @param {Record<string, any> | null} [attributes]
 * @param {...any} children
 * @returns {any}
 */
export function h(tag, attributes, ...children) {
  const element = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * An SVG drawing of `width` by `height`, labelled for screen readers.
 * @param {number} width
 * @param {number} height
 * @param {string} label
 * @param {...any} children
 */
export const svgRoot = (width, height, label, ...children) =>
  h('svg:svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label }, ...children);

/**
 * Whether `element` must be redrawn for `key`: false when it already shows it (so that buttons stay put under the
 * pointer while events stream), else true, noting the key.
 * @param {HTMLElement} element
 * @param {string} key
 */
export function keyed(element, key) {
  if (element.dataset.key === key) return false;
  element.dataset.key = key;
  return true;
}

/**
 * The attributes that make an element open something on click or Enter, and reachable by Tab.
 * @param {() => void} open
 */
export const activatable = (open) => ({
  tabindex: 0,
  onclick: open,
  onkeydown: (/** @type {KeyboardEvent} */ e) => {
    if (e.key === 'Enter') open();
  },
});

/** @param {string} id */
const byID = (id) => /** @type {any} */ (document.getElementById(id));

/**
 * Asks to confirm; resolves to whether the user did.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export function confirmAction(text) {
  const dialog = byID('confirm');
  byID('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    byID('confirm-ok').focus();
  });
}

/**
 * Asks for a rejection's reason; resolves to the text, or null when cancelled or left empty.
 * @param {string} text
 * @returns {Promise<string | null>}
 */
export function askReason(text) {
  const dialog = byID('reject');
  const field = byID('reject-reason');
  byID('reject-text').textContent = text;
  field.value = '';
  return new Promise((resolve) => {
    const answer = () => (dialog.returnValue === 'ok' && field.value.trim() ? field.value.trim() : null);
    dialog.addEventListener('close', () => resolve(answer()), { once: true });
    dialog.showModal();
    field.focus();
  });
}

/** @param {string} text */
export function setConnection(text) {
  byID('connection').textContent = text;
}

/**
 * The colour key of a chart.
 * @param {[string, string][]} items class and label
 */
export function legend(items) {
  return h('div', { class: 'legend' }, items.map(([cls, label]) => {
    const swatch = h('i');
    swatch.style.background = 'var(--' + cls + ')';
    return h('span', {}, swatch, label);
  }));
}

/**
 * A progress bar's fill.
 * @param {number} done
 * @param {number} total
 */
export function barFill(done, total) {
  const fill = h('i');
  fill.style.width = (total ? Math.min(100, (100 * done) / total) : 0) + '%';
  return fill;
}

/**
 * `action`, run at most once every `ms` milliseconds however often it is asked for.
 * @param {() => void} action
 * @param {number} ms
 */
export function throttle(action, ms) {
  /** @type {any} */
  let pending = null;
  let last = 0;
  return () => {
    if (pending) return;
    const wait = Math.max(0, last + ms - Date.now());
    pending = setTimeout(() => {
      pending = null;
      last = Date.now();
      action();
    }, wait);
  };
}
