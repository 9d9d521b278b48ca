/**
 * Islands: server-render a whole page with Preact, then hydrate only the
 * interactive parts in the browser (the Fresh model).
 *
 * On the server, {@linkcode island} wraps a component so that, when the page
 * is rendered inside an {@linkcode IslandCollector}, its HTML is enclosed in a
 * hydration marker — an element `<div data-island="Name" data-island-props="i">`
 * styled `display: contents` — and its props are recorded. The page then
 * embeds the props with {@linkcode islandPropsScript}. In the browser,
 * {@linkcode hydrateIslands} finds every marker and hydrates the named
 * component with the same props over the server's HTML, so the first client
 * render matches the server's and nothing flickers or doubles.
 *
 * @module
 */

import {
  type ComponentChild,
  type ComponentChildren,
  type ComponentType,
  createContext,
  h,
  hydrate,
  type VNode,
} from "preact";
import { useContext } from "preact/hooks";

/** Attribute naming the island component on its hydration marker. */
export const ISLAND_ATTRIBUTE = "data-island";
/** Attribute holding the index of the island's props on its marker. */
export const ISLAND_PROPS_ATTRIBUTE = "data-island-props";
/** Default id of the `<script type="application/json">` holding island props. */
export const ISLAND_PROPS_ID = "__streamo_islands";

/** Collects the props of the islands rendered on one server-side page. */
export class IslandCollector {
  /** Props of each island rendered so far, by marker index. */
  readonly props: unknown[] = [];

  /** Records `props` and returns their index. */
  add(props: unknown): number {
    this.props.push(props);
    return this.props.length - 1;
  }
}

const CollectorContext = createContext<IslandCollector | null>(null);

/** Props of {@linkcode IslandRoot}. */
export interface IslandRootProps {
  /** Where the islands rendered below record their props. */
  collector: IslandCollector;
  /** The page. */
  children?: ComponentChildren;
}

/** Server side: islands rendered below it record their props in `collector`. */
export function IslandRoot(props: IslandRootProps): ComponentChildren {
  return h(CollectorContext.Provider, {
    value: props.collector,
    children: props.children,
  });
}

/**
 * Wraps `component` as island `name` for server rendering: inside an
 * {@linkcode IslandRoot} it renders inside a hydration marker and records its
 * props (which must survive `JSON.stringify`); elsewhere it renders the
 * component as is.
 */
export function island<P extends object>(
  name: string,
  component: ComponentType<P>,
): ComponentType<P> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) {
    throw new TypeError(
      `Cannot define island ${
        JSON.stringify(name)
      }: island names are PascalCase identifiers`,
    );
  }
  function Island(props: P): ComponentChildren {
    const collector = useContext(CollectorContext);
    const inner = h(component, props);
    if (!collector) return inner;
    const index = collector.add(props);
    return h("div", {
      [ISLAND_ATTRIBUTE]: name,
      [ISLAND_PROPS_ATTRIBUTE]: String(index),
      style: "display:contents",
    }, inner);
  }
  Island.displayName = `Island(${name})`;
  return Island;
}

/**
 * `value` as JSON safe to embed in a `<script>` element: `<`, `>`, `&` and
 * the JavaScript line separators are escaped, so it cannot close the element.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The `<script type="application/json">` element text that carries the
 * collected props to the browser (see {@linkcode scriptJson}).
 */
export function islandPropsScript(
  collector: IslandCollector,
  id: string = ISLAND_PROPS_ID,
): string {
  return `<script type="application/json" id="${id}">${
    scriptJson(collector.props)
  }</script>`;
}

/** Options for {@linkcode hydrateIslands}. */
export interface HydrateOptions {
  /** The document to hydrate (default: `globalThis.document`). */
  document?: Document;
  /** Id of the props script (default {@linkcode ISLAND_PROPS_ID}). */
  propsId?: string;
  /** Wraps each island's vnode, e.g. in context providers. */
  wrap?: (vnode: VNode, name: string) => ComponentChild;
}

/**
 * Browser side: hydrates every island marker in the document with the
 * component of that name from `components`, passing the props the server
 * recorded. Returns the names hydrated, in document order. Throws an `Error`
 * naming the island when a marker names an unknown component or its props
 * are missing.
 */
export function hydrateIslands(
  components: Record<string, ComponentType<never>>,
  options: HydrateOptions = {},
): string[] {
  const doc = options.document ?? globalThis.document;
  const script = doc.getElementById(options.propsId ?? ISLAND_PROPS_ID);
  const all: unknown[] = script?.textContent
    ? JSON.parse(script.textContent)
    : [];
  const hydrated: string[] = [];
  for (const el of doc.querySelectorAll(`[${ISLAND_ATTRIBUTE}]`)) {
    const name = el.getAttribute(ISLAND_ATTRIBUTE)!;
    const component = components[name];
    if (!component) {
      throw new Error(
        `Cannot hydrate island "${name}": no component of that name was registered`,
      );
    }
    const index = Number(el.getAttribute(ISLAND_PROPS_ATTRIBUTE));
    if (!Number.isInteger(index) || index < 0 || index >= all.length) {
      throw new Error(
        `Cannot hydrate island "${name}": its props (#${
          el.getAttribute(ISLAND_PROPS_ATTRIBUTE)
        }) are missing from the page`,
      );
    }
    const vnode: VNode = h(
      component as ComponentType<Record<string, unknown>>,
      all[index] as Record<string, unknown>,
    );
    hydrate(options.wrap ? options.wrap(vnode, name) : vnode, el);
    hydrated.push(name);
  }
  return hydrated;
}
