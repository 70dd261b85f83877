// A form generated from a JSON Schema (a workflow version's input schema, as pydantic or
// a hand-written schema gives it): objects become fieldsets, strings/numbers/integers
// text boxes, booleans checkboxes, enums selects, arrays lists with Add/Remove, local
// "$ref"s are followed and "X or null" is an optional X. Whatever the generator cannot
// render (free-form objects, unions, tuples, no schema at all) is a raw JSON textarea.
//
// Every editor reads its value with the JSON path of where it sits ("$.items[0].qty",
// the notation of the server's schema errors), stamps that path on its node, and reports
// what does not coerce (a number that is not one, a required field left empty) there.
// The server checks the rest (minimum, pattern, …); its error lands by the same path.

import { h } from "./dom.js";

const MISSING = undefined; // an editor left empty: the key is left out of the input
let serial = 0;
const nextId = () => `sf-${++serial}`;

// {node, read() -> {value, errors: [{path, message}]}, showError(path, message), clearErrors()}
export function schemaForm(schema, initial) {
  const root = schema && typeof schema === "object" ? schema : null;
  const editor = root ? editorFor(root, root, { label: "Input", required: true, initial, top: true }) : jsonEditor({ label: "Input", required: false, initial });
  const node = h("div", { class: "schema-form" }, editor.node);
  return {
    node,
    read() {
      const errors = [];
      const value = editor.read("$", (path, message) => errors.push({ path, message }));
      return { value: value === MISSING ? (root && kindOf(root, root).kind === "object" ? {} : null) : value, errors };
    },
    showError: (path, message) => showError(node, path, message),
    clearErrors: () => clearErrors(node),
  };
}

// The server names a bad input field "input.items[0].qty"; the form's path is "$.items[0].qty".
export function pathOfField(field) {
  return field === "input" || field.startsWith("input.") || field.startsWith("input[") ? `$${field.slice(5)}` : "";
}

function resolve(schema, root) {
  let current = schema;
  for (let hops = 0; current && current.$ref && hops < 20; hops++) {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(current.$ref);
    const target = match && root[match[1]] && root[match[1]][decodeURIComponent(match[2])];
    if (!target) return {};
    const { $ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  // pydantic wraps a $ref with a default in allOf: [{$ref}].
  if (current && Array.isArray(current.allOf) && current.allOf.length === 1) {
    const { allOf, ...rest } = current;
    return resolve({ ...allOf[0], ...rest }, root);
  }
  return current || {};
}

const PRIMITIVE = new Set(["string", "number", "integer", "boolean"]);

// What to render a schema as: {kind, schema (resolved), nullable}.
function kindOf(schema, root) {
  let resolved = resolve(schema, root);
  let nullable = false;
  const union = resolved.anyOf || resolved.oneOf;
  if (Array.isArray(union)) {
    const options = union.map((option) => resolve(option, root)).filter((option) => option.type !== "null");
    if (options.length !== 1) return { kind: "json", schema: resolved, nullable };
    const { anyOf, oneOf, ...rest } = resolved;
    resolved = { ...options[0], ...rest };
    nullable = options.length < union.length;
  }
  let type = resolved.type;
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null");
    nullable = nullable || types.length < type.length;
    type = types.length === 1 ? types[0] : undefined;
  }
  if (Array.isArray(resolved.enum) && resolved.enum.every((v) => v === null || typeof v !== "object")) {
    return { kind: "enum", schema: resolved, nullable };
  }
  if (resolved.const !== undefined) return { kind: "const", schema: resolved, nullable };
  if ((type === "object" || (!type && resolved.properties)) && resolved.properties) {
    return { kind: "object", schema: resolved, nullable };
  }
  if (type === "array" && resolved.items && typeof resolved.items === "object" && !resolved.prefixItems) {
    return { kind: "array", schema: resolved, nullable };
  }
  return { kind: PRIMITIVE.has(type) ? type : "json", schema: resolved, nullable };
}

// One key of a JSON path: .name, or ['odd name'] as the server's jsonschema writes it.
const child = (path, key) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}['${key}']`);

// The local $refs a schema leads to (itself, or as an option of a union).
function refsOf(schema) {
  const options = [schema, ...(schema.anyOf || []), ...(schema.oneOf || []), ...(schema.allOf || [])];
  return options.map((option) => option && option.$ref).filter(Boolean);
}

function editorFor(schema, root, options) {
  // A recursive schema (a tree's node holding nodes) is unfolded once per path; the
  // level that would repeat a $ref already open above it is a JSON text area.
  const seen = options.seen || new Set();
  const refs = refsOf(schema);
  if (refs.some((ref) => seen.has(ref))) return jsonEditor(options);
  options = { ...options, seen: new Set([...seen, ...refs]) };
  const { kind, schema: resolved } = kindOf(schema, root);
  let initial = options.initial !== undefined ? options.initial : resolved.default;
  if (initial === null) initial = undefined; // "X or null, default null": left empty

  const label = resolved.title && !options.top ? resolved.title : options.label;
  const settings = { ...options, initial, label, description: resolved.description };
  switch (kind) {
    case "object":
      return objectEditor(resolved, root, settings);
    case "array":
      return arrayEditor(resolved, root, settings);
    case "enum":
      return enumEditor(resolved, settings);
    case "const":
      return constEditor(resolved, settings);
    case "boolean":
      return booleanEditor(settings);
    case "number":
    case "integer":
      return numberEditor(kind, settings);
    case "string":
      return stringEditor(resolved, settings);
    default:
      return jsonEditor(settings);
  }
}

// A labelled control with its description, and room for an error under it.
function fieldNode(control, { label, required, description }) {
  const hint = description ? h("p", { class: "hint", id: nextId() }, description) : null;
  if (hint) control.setAttribute("aria-describedby", hint.id);
  if (required) control.setAttribute("aria-required", "true");
  return h("div", { class: "field" }, labelNode(control.id, label, required), control, hint);
}

function labelNode(forId, text, required) {
  return h("label", { for: forId }, text, required ? h("span", { class: "req", "aria-hidden": "true", title: "required" }, " *") : null);
}

function stamp(node, path) {
  node.dataset.path = path;
}

// A text-entry editor: `parse(text, path, report)` turns the trimmed text into the value.
function textEditor(control, settings, parse) {
  const node = fieldNode(control, settings);
  return {
    node,
    setLabel: (text) => (node.querySelector("label").firstChild.textContent = text),
    isEmpty: () => control.value.trim() === "",
    read(path, report) {
      stamp(node, path);
      const text = control.value.trim();
      if (!text) {
        if (settings.required) report(path, "is required");
        return MISSING;
      }
      return parse(text, path, report);
    },
  };
}

function stringEditor(schema, settings) {
  const types = { email: "email", uri: "url", date: "date" };
  const control = h("input", {
    id: nextId(),
    type: types[schema.format] || "text",
    value: settings.initial === undefined || settings.initial === null ? "" : String(settings.initial),
    autocomplete: "off",
    spellcheck: "false",
    placeholder: schema.format === "date-time" ? "2026-01-31T12:00:00Z" : null,
  });
  return textEditor(control, settings, (text) => text);
}

function numberEditor(kind, settings) {
  // A text box, not type=number: the page coerces the text itself and says what is wrong
  // (a number box silently drops what does not parse).
  const control = h("input", {
    id: nextId(),
    type: "text",
    inputmode: kind === "integer" ? "numeric" : "decimal",
    value: typeof settings.initial === "number" ? String(settings.initial) : "",
    autocomplete: "off",
  });
  return textEditor(control, settings, (text, path, report) => {
    const value = Number(text);
    if (!Number.isFinite(value)) report(path, "must be a number");
    else if (kind === "integer" && !Number.isInteger(value)) report(path, "must be a whole number");
    else return value;
    return MISSING;
  });
}

function jsonEditor(settings) {
  const initial = settings.initial === undefined ? "" : JSON.stringify(settings.initial, null, 2);
  const control = h("textarea", { id: nextId(), rows: "4", spellcheck: "false", class: "mono" }, initial);
  const editor = textEditor(control, { ...settings, label: `${settings.label} (JSON)` }, (text, path, report) => {
    try {
      return JSON.parse(text);
    } catch (error) {
      report(path, `is not valid JSON: ${error.message}`);
      return MISSING;
    }
  });
  return editor;
}

// A boolean is always sent: an unchecked box is false.
function booleanEditor(settings) {
  const control = h("input", { id: nextId(), type: "checkbox", checked: settings.initial === true });
  const node = h("div", { class: "field field-check" }, control, labelNode(control.id, settings.label, false));
  if (settings.description) node.append(h("p", { class: "hint" }, settings.description));
  return {
    node,
    setLabel: (text) => (node.querySelector("label").firstChild.textContent = text),
    isEmpty: () => !control.checked,
    read(path) {
      stamp(node, path);
      return control.checked;
    },
  };
}

function enumEditor(schema, settings) {
  const values = schema.enum;
  const chosen = values.findIndex((v) => v === settings.initial);
  const control = h(
    "select",
    { id: nextId() },
    settings.required && chosen >= 0 ? null : h("option", { value: "" }, settings.required ? "— choose —" : "—"),
    values.map((value, i) => h("option", { value: String(i), selected: i === chosen }, value === null ? "null" : String(value))),
  );
  return textEditor(control, settings, (text) => values[Number(text)]);
}

function constEditor(schema, settings) {
  const node = h("div", { class: "field" }, h("span", { class: "muted" }, `${settings.label}: ${JSON.stringify(schema.const)}`));
  return {
    node,
    setLabel: () => {},
    isEmpty: () => true,
    read: () => schema.const,
  };
}

function objectEditor(schema, root, settings) {
  const required = new Set(schema.required || []);
  const initial = settings.initial && typeof settings.initial === "object" ? settings.initial : {};
  const children = ordered(schema).map(([key, property]) => [
    key,
    editorFor(property, root, { label: key, required: required.has(key), initial: initial[key], seen: settings.seen }),
  ]);
  const legend = settings.top ? null : h("legend", {}, settings.label, settings.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null);
  const node = h(
    settings.top ? "div" : "fieldset",
    { class: settings.top ? "fields-stack" : "group" },
    legend,
    settings.description && !settings.top ? h("p", { class: "hint" }, settings.description) : null,
    children.map(([, editor]) => editor.node),
  );
  const isEmpty = () => children.every(([, editor]) => editor.isEmpty());
  return {
    node,
    setLabel: (text) => legend && (legend.firstChild.textContent = text),
    isEmpty,
    read(path, report) {
      stamp(node, path);
      // An optional object nobody filled in is left out, not sent half-empty.
      if (!settings.required && !settings.top && isEmpty()) return MISSING;
      const value = {};
      for (const [key, editor] of children) {
        const item = editor.read(child(path, key), report);
        if (item !== MISSING) value[key] = item;
      }
      return value;
    },
  };
}

// The server keeps a schema as a protobuf Struct, whose keys come back sorted: the order
// the workflow declared its fields in is lost, except in `required` (a list). So the
// required fields come first, in that order, then the optional ones by name.
function ordered(schema) {
  const required = (schema.required || []).filter((key) => key in schema.properties);
  const rest = Object.keys(schema.properties).filter((key) => !required.includes(key));
  return [...required, ...rest].map((key) => [key, schema.properties[key]]);
}

function arrayEditor(schema, root, settings) {
  const list = h("ol", { class: "items" });
  const items = [];
  const legend = h("legend", {}, settings.label, settings.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null);
  const renumber = () => items.forEach((item, i) => item.editor.setLabel(`${settings.label} ${i + 1}`));
  const add = (initial) => {
    const editor = editorFor(schema.items, root, { label: settings.label, required: true, initial, seen: settings.seen });
    const remove = h("button", { type: "button", class: "quiet" }, "Remove");
    const entry = { editor, li: h("li", {}, editor.node, remove) };
    remove.addEventListener("click", () => {
      items.splice(items.indexOf(entry), 1);
      entry.li.remove();
      renumber();
      addButton.focus();
    });
    items.push(entry);
    list.append(entry.li);
    renumber();
    return entry;
  };
  const addButton = h("button", { type: "button", class: "quiet" }, `Add ${settings.label}`);
  addButton.addEventListener("click", () => {
    const entry = add(undefined);
    const first = entry.li.querySelector("input, select, textarea");
    if (first) first.focus();
  });
  for (const value of Array.isArray(settings.initial) ? settings.initial : []) add(value);
  const node = h("fieldset", { class: "group" }, legend, settings.description ? h("p", { class: "hint" }, settings.description) : null, list, addButton);
  return {
    node,
    setLabel: (text) => (legend.firstChild.textContent = text),
    isEmpty: () => items.length === 0,
    read(path, report) {
      stamp(node, path);
      if (!items.length && !settings.required) return MISSING;
      return items.map((item, i) => {
        const value = item.editor.read(`${path}[${i}]`, report);
        return value === MISSING ? null : value;
      });
    },
  };
}

function clearErrors(form) {
  for (const error of form.querySelectorAll(".field-error")) error.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.startsWith("sf-err-"));
    if (described.length) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
  }
}

// The error under the field at `path`, or under its nearest ancestor the form shows.
// Returns whether a field took it.
function showError(form, path, message) {
  let at = path;
  let holder = form.querySelector(`[data-path="${CSS.escape(at)}"]`);
  while (!holder) {
    const up = at.replace(/(\.[A-Za-z_][A-Za-z0-9_]*|\['[^']*'\]|\[\d+\])$/, "");
    if (up === at || !up) return false;
    at = up;
    holder = form.querySelector(`[data-path="${CSS.escape(at)}"]`);
  }
  const error = h("p", { class: "field-error error", id: `sf-err-${++serial}` }, message);
  const control = holder.querySelector("input, select, textarea");
  if (control && holder.classList.contains("field")) {
    control.setAttribute("aria-invalid", "true");
    const described = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", described ? `${described} ${error.id}` : error.id);
  }
  holder.append(error);
  return true;
}
