/**
 * Words a person reads: enum values as labels (`square_hd` → "Square HD"), counts with their noun
 * in the right number ("1 second", "8 seconds"), fal's billing units ("per second") and lengths
 * of time. Pure functions only; the values sent to the server are never these.
 */

/** Tokens written the way people write them, whatever case the value had. */
const ACRONYMS: Readonly<Record<string, string>> = {
  hd: 'HD',
  sd: 'SD',
  fhd: 'FHD',
  uhd: 'UHD',
  hdr: 'HDR',
  '2k': '2K',
  '4k': '4K',
  '8k': '8K',
  '3d': '3D',
  mp3: 'MP3',
  mp4: 'MP4',
  wav: 'WAV',
  png: 'PNG',
  jpeg: 'JPEG',
  jpg: 'JPG',
  gif: 'GIF',
  webp: 'WebP',
  webm: 'WebM',
  url: 'URL',
  urls: 'URLs',
  id: 'ID',
  ids: 'IDs',
  tts: 'TTS',
  ai: 'AI',
  api: 'API',
  cfg: 'CFG',
  lora: 'LoRA',
};

/** A machine-made value: lower-case words and numbers joined by `_` or `-`, nothing else. */
const IDENTIFIER = /^[a-z0-9]+(?:[_-][a-z0-9]+)*$/;
/**
 * A machine-made value with capitals in it (`auto_2K`, `square_HD`): words joined by `_`, which
 * people never write. Hyphens alone (`Sci-Fi`) are how people write words, so those stay.
 */
const MIXED_IDENTIFIER = /^[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)+$/;
/** Aspect ratios as enums write them (`landscape_16_9`); other number pairs stay numbers. */
const RATIOS = new Set(['1_1', '2_1', '1_2', '3_2', '2_3', '4_3', '3_4', '5_4', '4_5', '16_9', '9_16', '21_9', '9_21', '16_10', '10_16']);

/**
 * An enum value as a label: snake_case and kebab-case become sentence case, two numbers that
 * make an aspect ratio become one, and known acronyms are upper-cased (`landscape_16_9` →
 * "Landscape 16:9", `text-to-image` → "Text to image", `png` → "PNG"). A value with capitals
 * joined by `_` keeps its words' case (`auto_2K` → "Auto 2K"). Anything else already written for
 * people (spaces, `16:9`, `1080p`, `Sci-Fi`) is returned as it is; numbers and booleans as text.
 */
export function humanEnum(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const mixed = !IDENTIFIER.test(value);
  if (mixed && !MIXED_IDENTIFIER.test(value)) return value;
  // Capitals are kept as written (`2K`, `HD`, `Pro`); only `_` joins are taken apart then.
  const tokens = mixed ? value.split(/_+/) : value.split(/[_-]+/);
  const words: string[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] ?? '';
    const next = tokens[i + 1];
    if (next !== undefined && RATIOS.has(`${token}_${next}`)) {
      words.push(`${token}:${next}`);
      i += 1;
    } else {
      words.push(ACRONYMS[token.toLowerCase()] ?? token);
    }
  }
  const [first = '', ...rest] = words;
  // "v2" stays a version; an acronym keeps its own case.
  const head = /^v\d/.test(first) || first !== first.toLowerCase() ? first : first.charAt(0).toUpperCase() + first.slice(1);
  return [head, ...rest].join(' ');
}

const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** A count as people write it: `1`, `1.5`, `1,200`. */
export function formatCount(count: number): string {
  return countFormat.format(count);
}

/** The noun for `count` things: `one` for exactly 1, else `many` (by default `one` + "s"). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return count === 1 ? one : many;
}

/** "1 second", "8 seconds", "1.5 megapixels". */
export function countOf(count: number, one: string, many?: string): string {
  return `${formatCount(count)} ${plural(count, one, many)}`;
}

/** Units with no plural. */
const UNCOUNTABLE = new Set(['audio', 'compute', 'data', 'speech', 'music']);

function singularOf(word: string): string {
  if (UNCOUNTABLE.has(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(?:ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && word.length > 1) return word.slice(0, -1);
  return word;
}

function pluralOf(word: string): string {
  if (UNCOUNTABLE.has(word)) return word;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(?:s|x|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

/**
 * fal's billing unit as a noun for `count` of them, whichever number fal wrote it in:
 * `unitNoun('seconds', 1)` → "second", `unitNoun('image', 3)` → "images". A unit that starts
 * with a number ("1k tokens") is a quantity already and stays as it is.
 */
export function unitNoun(unit: string, count: number): string {
  const text = unit.trim().toLowerCase().replace(/_+/g, ' ');
  if (text === '') return plural(count, 'unit');
  if (/^\d/.test(text)) return text;
  const words = text.split(/\s+/);
  const last = singularOf(words.pop() ?? '');
  return [...words, count === 1 ? last : pluralOf(last)].join(' ');
}

/** "$0.28 per second" from an amount already formatted and fal's unit. */
export function perUnit(amount: string, unit: string): string {
  return `${amount} per ${unitNoun(unit, 1)}`;
}

/** How many units: "1 image", "8 seconds", "2 × 1k tokens". */
export function unitCount(count: number, unit: string): string {
  const noun = unitNoun(unit, count);
  return /^\d/.test(noun) ? `${formatCount(count)} × ${noun}` : `${formatCount(count)} ${noun}`;
}

/**
 * A length of time in words: "0.8 seconds", "1 second", "12 seconds", "2 minutes 5 seconds",
 * "1 hour 3 minutes". Under 10 seconds keeps one decimal (dropped when it is 0).
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) {
    const shown = seconds < 10 ? Math.round(seconds * 10) / 10 : Math.round(seconds);
    if (shown < 60) return countOf(shown, 'second');
  }
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (hours > 0) return minutes === 0 ? countOf(hours, 'hour') : `${countOf(hours, 'hour')} ${countOf(minutes, 'minute')}`;
  return rest === 0 ? countOf(minutes, 'minute') : `${countOf(minutes, 'minute')} ${countOf(rest, 'second')}`;
}

/** A media length as a clock: `0:08`, `1:05`, `1:02:03`; anything above zero shows at least `0:01`. */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const total = seconds > 0 ? Math.max(1, Math.round(seconds)) : 0;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** What one file of a kind is called: "an image", "a video", "an audio file". */
export function kindNoun(kind: string, count = 1): string {
  switch (kind) {
    case 'image':
      return plural(count, 'image');
    case 'video':
      return plural(count, 'video');
    case 'audio':
      return plural(count, 'audio file');
    default:
      return plural(count, 'file');
  }
}

/** "a" or "an", by how the word sounds for the words this app uses. */
export function withArticle(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** Words that start a predicate: "must be …", "is taken", "cannot be empty". */
const VERB_START = /^(?:must|is|are|was|has|have|had|should|can|cannot|can't|may|needs?|does|did|do|will|would|contains?|looks?|ends?|starts?|exceeds?)\b/i;
/** Words that describe the thing: "not a valid email address", "too long", "already taken". */
const COMPLEMENT_START = /^(?:not|too|already|a|an|the|required|invalid|empty|missing|taken|unknown|out)\b/i;

/**
 * A server's problem with one field as a sentence a person reads under that field: the field's
 * name leads a lower-case phrase ("must be 8 to 1024 characters" → "Password must be 8 to 1024
 * characters."; "not a valid email address" → "Email is not a valid email address."); a message
 * that is a sentence already keeps its words and gets a full stop.
 */
export function fieldSentence(label: string, message: string): string {
  const text = message.trim().replace(/\.+$/, '');
  if (text === '') return `Check the ${label.toLowerCase()}.`;
  const first = text.charAt(0);
  if (first !== first.toLowerCase()) return /[!?]$/.test(text) ? text : `${text}.`;
  if (VERB_START.test(text)) return `${label} ${text}.`;
  if (COMPLEMENT_START.test(text)) return `${label} is ${text}.`;
  return `${label}: ${text}.`;
}
