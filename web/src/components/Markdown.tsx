/**
 * The small part of Markdown that fal's field descriptions use, rendered as React elements:
 * paragraphs, line breaks, `-`/`1.` lists, `code`, **bold**, *italic*, and links to http(s)
 * addresses (opened in a new tab, `rel="noopener noreferrer"`). Everything else is text: raw HTML
 * shows as the characters it is made of, a link to any other scheme (`javascript:`, `data:`, a
 * relative path) keeps its words and loses its address. Nothing here ever sets HTML: React
 * escapes every string, so a description cannot inject markup or script.
 */
import type { ReactNode } from 'react';

/** How deep emphasis may nest before the rest is shown as text. */
const MAX_DEPTH = 6;

/** The link's address when it is an absolute http(s) URL, else null. */
export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks

type Block = { kind: 'p'; text: string } | { kind: 'ul' | 'ol'; items: string[] };

const LIST_ITEM = /^(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/;

/** Removes the indentation every line shares (Python docstrings indent the whole text). */
function dedent(lines: string[]): string[] {
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^[ \t]*/.exec(line)?.[0].length ?? 0);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((line) => line.slice(common));
}

/**
 * Joins a paragraph's lines: a line ending in two spaces or a backslash is a hard break (`\n`
 * in the result), any other line end is a space, as in Markdown.
 */
function joinLines(lines: readonly string[]): string {
  let out = '';
  lines.forEach((line, index) => {
    const last = index === lines.length - 1;
    const hard = / {2,}$/.test(line) || /\\$/.test(line);
    const text = line.replace(/\\$/, '').trim();
    out += text;
    if (!last) out += hard ? '\n' : ' ';
  });
  return out;
}

export function parseBlocks(source: string): Block[] {
  const lines = dedent(source.replace(/\r\n?/g, '\n').split('\n'));
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let list: { kind: 'ul' | 'ol'; items: string[][] } | null = null;

  const flushParagraph = () => {
    if (paragraph.length > 0) blocks.push({ kind: 'p', text: joinLines(paragraph) });
    paragraph = [];
  };
  const flushList = () => {
    if (list !== null) blocks.push({ kind: list.kind, items: list.items.map(joinLines) });
    list = null;
  };

  for (const line of lines) {
    if (line.trim() === '') {
      flushParagraph();
      flushList();
      continue;
    }
    const item = LIST_ITEM.exec(line.trim());
    if (item !== null) {
      flushParagraph();
      const kind = item[1] === undefined ? 'ol' : 'ul';
      if (list !== null && list.kind !== kind) flushList();
      list ??= { kind, items: [] };
      list.items.push([item[3] ?? '']);
    } else if (list !== null) {
      // A line under an item carries on that item.
      list.items.at(-1)?.push(line);
    } else {
      paragraph.push(line);
    }
  }
  flushParagraph();
  flushList();
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Inline

const ESCAPABLE = /[\\`*_{}[\]()#+\-.!<>|~"']/;
/** `[words](address "title")`; the address may hold one level of parentheses (Wikipedia). */
const LINK = /^\[((?:[^[\]\\]|\\.)*)\]\(\s*<?([^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)>?(?:\s+"[^"]*")?\s*\)/;
const AUTOLINK = /^<(https?:\/\/[^\s<>]+)>/i;
const BARE_URL = /^https?:\/\/[^\s<>]+/i;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** A bare URL without the punctuation that ends the sentence around it. */
function trimUrl(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1] ?? '';
    if ('.,;:!?\'"*_'.includes(last)) end -= 1;
    else if (last === ')' && (url.slice(0, end).match(/\(/g)?.length ?? 0) < (url.slice(0, end).match(/\)/g)?.length ?? 0)) end -= 1;
    else break;
  }
  return url.slice(0, end);
}

/** Where the closing delimiter of an emphasis opened at `from` is, or -1. */
function closingOf(text: string, from: number, delimiter: string): number {
  const single = delimiter.length === 1;
  for (let at = text.indexOf(delimiter, from); at !== -1; at = text.indexOf(delimiter, at + 1)) {
    if (text[at - 1] === '\\') continue;
    // `*a*` closes on a lone `*`, not on half of a `**`.
    if (single && (text[at + 1] === delimiter || text[at - 1] === delimiter)) continue;
    if (/\s/.test(text[at - 1] ?? ' ')) continue;
    // `snake_case_names` are not emphasis: an underscore closes only before a non-word character.
    if (delimiter[0] === '_' && WORD_CHAR.test(text[at + delimiter.length] ?? '')) continue;
    return at;
  }
  return -1;
}

function link(href: string, children: ReactNode, key: string): ReactNode {
  return (
    <a key={key} href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

/** Text with its hard line breaks as `<br>`. */
function textNodes(text: string, key: string): ReactNode[] {
  return text.split('\n').flatMap((part, index) => (index === 0 ? [part] : [<br key={`${key}-br${index}`} />, part]));
}

/** Inline Markdown as React nodes. `links`: false inside a link's own words (no nested links). */
export function parseInline(text: string, links = true, depth = 0, keyPrefix = 'm'): ReactNode[] {
  const nodes: ReactNode[] = [];
  let plain = '';
  let count = 0;
  const key = () => `${keyPrefix}-${count++}`;
  const flush = () => {
    if (plain !== '') nodes.push(...textNodes(plain, key()));
    plain = '';
  };
  const push = (node: ReactNode) => {
    flush();
    nodes.push(node);
  };

  let i = 0;
  while (i < text.length) {
    const char = text[i] ?? '';
    const rest = text.slice(i);

    if (char === '\\' && ESCAPABLE.test(text[i + 1] ?? '')) {
      plain += text[i + 1];
      i += 2;
      continue;
    }

    if (char === '`') {
      const run = /^`+/.exec(rest)?.[0] ?? '`';
      const close = text.indexOf(run, i + run.length);
      // Only a run of the same length closes it (`` a ` b `` holds a backtick).
      if (close !== -1 && text[close + run.length] !== '`') {
        const code = text.slice(i + run.length, close).replace(/\n/g, ' ');
        const trimmed = /^ .* $/.test(code) && code.trim() !== '' ? code.slice(1, -1) : code;
        push(<code key={key()}>{trimmed}</code>);
        i = close + run.length;
      } else {
        plain += run;
        i += run.length;
      }
      continue;
    }

    if (char === '[' && links) {
      const match = LINK.exec(rest);
      if (match !== null) {
        const words = parseInline(match[1] ?? '', false, depth + 1, `${keyPrefix}-${count}`);
        const href = safeHref(match[2] ?? '');
        // A link to anything but http(s) keeps its words and loses its address.
        if (href === null) {
          flush();
          nodes.push(...words);
        } else push(link(href, words, key()));
        i += match[0].length;
        continue;
      }
    }

    if (char === '<' && links) {
      const match = AUTOLINK.exec(rest);
      const href = match === null ? null : safeHref(match[1] ?? '');
      if (match !== null && href !== null) {
        push(link(href, match[1], key()));
        i += match[0].length;
        continue;
      }
    }

    if ((char === 'h' || char === 'H') && links && !WORD_CHAR.test(text[i - 1] ?? ' ')) {
      const match = BARE_URL.exec(rest);
      if (match !== null) {
        const url = trimUrl(match[0]);
        const href = safeHref(url);
        if (href !== null) {
          push(link(href, url, key()));
          i += url.length;
          continue;
        }
      }
    }

    if ((char === '*' || char === '_') && depth < MAX_DEPTH) {
      const run = new RegExp(`^\\${char}{1,3}`).exec(rest)?.[0] ?? char;
      const after = text[i + run.length] ?? '';
      const before = text[i - 1] ?? ' ';
      const opens = after !== '' && !/\s/.test(after) && !(char === '_' && WORD_CHAR.test(before));
      let matched = false;
      if (opens) {
        // `***x***` is bold and italic; try the longest delimiter first.
        for (const size of [run.length, 2, 1].filter((n, index, all) => n <= run.length && all.indexOf(n) === index)) {
          const delimiter = char.repeat(size);
          const close = closingOf(text, i + size, delimiter);
          if (close === -1 || close === i + size) continue;
          const inner = parseInline(text.slice(i + size, close), links, depth + 1, `${keyPrefix}-${count}`);
          const k = key();
          const node =
            size === 3 ? (
              <strong key={k}>
                <em>{inner}</em>
              </strong>
            ) : size === 2 ? (
              <strong key={k}>{inner}</strong>
            ) : (
              <em key={k}>{inner}</em>
            );
          push(node);
          i = close + size;
          matched = true;
          break;
        }
      }
      if (matched) continue;
      plain += run;
      i += run.length;
      continue;
    }

    plain += char;
    i += 1;
  }
  flush();
  return nodes;
}

// ---------------------------------------------------------------------------------------------

interface MarkdownProps {
  text: string;
  id?: string;
  className?: string;
}

/** A description in Markdown, as safe React elements (see the top of this file). */
export function Markdown({ text, id, className }: MarkdownProps) {
  const blocks = parseBlocks(text);
  return (
    <div id={id} className={className === undefined ? 'markdown' : `markdown ${className}`}>
      {blocks.map((block, index) => {
        const key = `b${index}`;
        if (block.kind === 'p') return <p key={key}>{parseInline(block.text, true, 0, key)}</p>;
        const items = block.items.map((item, n) => <li key={`${key}-${n}`}>{parseInline(item, true, 0, `${key}-${n}`)}</li>);
        return block.kind === 'ul' ? <ul key={key}>{items}</ul> : <ol key={key}>{items}</ol>;
      })}
    </div>
  );
}

/** The description as plain words (for its length, or a `title`). */
export function markdownText(text: string): string {
  return text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
