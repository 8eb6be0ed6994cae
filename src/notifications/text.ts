/**
 * Text that does not yet know where it will be shown: our own words mixed with values from outside
 * (an IAM user name, an account's name, an error's text), key IDs, links and emphasis. Each chat's
 * adapter turns it into its own markup with a `Markup`, escaping only what that markup needs. Pure.
 */

import type { HandlePlace, Owner } from '../model.js';

/** One piece of a line. A plain string is our own words. */
export type Span =
  | string
  | { user: string }
  | { name: string }
  | { quote: string }
  | { code: string }
  | { warn: Text }
  | { link: { label: string; url: string } }
  | { owner: Owner };

export type Text = readonly Span[];

/** How one chat marks up each kind of span. */
export interface Markup {
  /** Our own words. */
  text(s: string): string;
  /** An IAM user name (letters, digits and `_+=,.@-` when IAM is the source). */
  user(s: string): string;
  /** An account's alias or its name in the organisation: any printable ASCII. */
  name(s: string): string;
  /** Prose from elsewhere: an error message. */
  quote(s: string): string;
  /** An access key ID: AWS's own `[A-Z0-9]`, or our `…`. */
  code(s: string): string;
  /** Something to notice: the reasons a key is stale, a warning. */
  warn(s: string): string;
  link(label: string, url: string): string;
  /** A key's owner: its text made inert, and the handle of this chat as the chat mentions people. */
  owner(owner: Owner): string;
}

/**
 * An owner as words and a mention: `text` made inert by `inert`, then the handle of `place`
 * written by `mention`; the GitHub login when nothing else names the owner.
 */
export function ownerMarkup(
  place: HandlePlace | null,
  inert: (s: string) => string,
  mention: (handle: string) => string,
): (owner: Owner) => string {
  return (owner) => {
    const handle = place ? owner.handles[place] : undefined;
    const parts: string[] = [];
    if (owner.text) parts.push(inert(owner.text));
    if (handle) parts.push(mention(handle));
    if (parts.length === 0 && owner.handles.github) parts.push(inert(`${owner.handles.github} (GitHub)`));
    return parts.join(' ');
  };
}

/**
 * A line written as a template: `line\`${user('alice')} is ${warn(...)}\`` keeps the values as
 * spans and the rest as our words.
 */
export function line(strings: TemplateStringsArray, ...values: Array<Span | Text>): Span[] {
  const out: Span[] = [];
  strings.forEach((s, i) => {
    if (s) out.push(s);
    if (i < values.length) {
      const value = values[i]!;
      if (Array.isArray(value)) out.push(...(value as Text));
      else out.push(value as Span);
    }
  });
  return out;
}

export const user = (s: string): Span => ({ user: s });
export const name = (s: string): Span => ({ name: s });
export const quote = (s: string): Span => ({ quote: s });
export const code = (s: string): Span => ({ code: s });
export const warn = (text: Text | string): Span => ({ warn: typeof text === 'string' ? [text] : text });
export const link = (label: string, url: string): Span => ({ link: { label, url } });
export const owner = (o: Owner): Span => ({ owner: o });

/** `parts` joined by `separator` (our words). */
export function join(parts: readonly Text[], separator: string): Span[] {
  return parts.flatMap((p, i) => (i === 0 ? [...p] : [separator, ...p]));
}

/** The text in a chat's markup. */
export function render(text: Text, markup: Markup): string {
  return text.map((span) => renderSpan(span, markup)).join('');
}

function renderSpan(span: Span, m: Markup): string {
  if (typeof span === 'string') return m.text(span);
  if ('user' in span) return m.user(span.user);
  if ('name' in span) return m.name(span.name);
  if ('quote' in span) return m.quote(span.quote);
  if ('code' in span) return m.code(span.code);
  if ('warn' in span) return m.warn(render(span.warn, m));
  if ('owner' in span) return m.owner(span.owner);
  return m.link(span.link.label, span.link.url);
}

/**
 * No markup at all, for a plain-text message (WeCom's app message): a link is its label, `colon`
 * (`: ` or `：`) and its URL.
 */
export function plainMarkup(colon: string): Markup {
  return {
    text: (s) => s,
    user: oneLine,
    name: oneLine,
    quote: oneLine,
    code: (s) => s,
    warn: (s) => s,
    link: (label, url) => `${label}${colon}${url}`,
    owner: ownerMarkup(null, oneLine, (h) => h),
  };
}

/** Newlines from outside become spaces: a value never starts a line of its own. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
