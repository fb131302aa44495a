// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Markdown, markdownText, parseBlocks, safeHref } from './Markdown';

afterEach(cleanup);

const html = (text: string) => render(<Markdown text={text} />).container.innerHTML;

describe('Markdown', () => {
  it('renders code, bold, italic and links, and opens links in a new tab without an opener', () => {
    const { container } = render(
      <Markdown text="Use `square_hd` for **sharp** and *soft* results; see [the docs](https://fal.ai/models?x=1)." />,
    );
    expect(container.querySelector('code')?.textContent).toBe('square_hd');
    expect(container.querySelector('strong')?.textContent).toBe('sharp');
    expect(container.querySelector('em')?.textContent).toBe('soft');
    const link = container.querySelector('a');
    expect(link?.getAttribute('href')).toBe('https://fal.ai/models?x=1');
    expect(link?.getAttribute('target')).toBe('_blank');
    expect(link?.getAttribute('rel')).toBe('noopener noreferrer');
    expect(link?.textContent).toBe('the docs');
    expect(container.textContent).toBe('Use square_hd for sharp and soft results; see the docs.');
  });

  it('makes paragraphs of blank lines, spaces of line ends and breaks of two trailing spaces', () => {
    const { container } = render(
      <Markdown text={'\n            First line\n            goes on.\n\n            Second  \n            with a break.\n        '} />,
    );
    const paragraphs = [...container.querySelectorAll('p')];
    expect(paragraphs.map((p) => p.textContent)).toEqual(['First line goes on.', 'Secondwith a break.']);
    expect(paragraphs[1]?.querySelectorAll('br')).toHaveLength(1);
  });

  it('makes lists of "-" and "1." lines', () => {
    const { container } = render(<Markdown text={'Sizes:\n- `square`: 1:1\n- `landscape_16_9`\n  wide\n\n1. one\n2. two'} />);
    expect(container.querySelector('p')?.textContent).toBe('Sizes:');
    expect([...container.querySelectorAll('ul > li')].map((li) => li.textContent)).toEqual(['square: 1:1', 'landscape_16_9 wide']);
    expect([...container.querySelectorAll('ol > li')].map((li) => li.textContent)).toEqual(['one', 'two']);
  });

  it('links bare and <angle> http(s) addresses, leaving the sentence’s punctuation out', () => {
    const { container } = render(<Markdown text="See https://fal.ai/docs. Or <http://example.com/a_(b)>, or (https://x.test/y)." />);
    expect([...container.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual([
      'https://fal.ai/docs',
      'http://example.com/a_(b)',
      'https://x.test/y',
    ]);
  });

  it('leaves snake_case names, lone stars and escaped characters as they are', () => {
    const { container } = render(<Markdown text={'Set num_inference_steps and max_images to 2 * 3 \\*not italic\\*.'} />);
    expect(container.querySelector('em, strong')).toBeNull();
    expect(container.textContent).toBe('Set num_inference_steps and max_images to 2 * 3 *not italic*.');
  });

  describe('is safe', () => {
    it('shows raw HTML as text, never as elements', () => {
      const text = 'Hi <img src=x onerror="alert(1)"> and <script>alert(2)</script><b>bold?</b>';
      const { container } = render(<Markdown text={text} />);
      expect(container.querySelector('img, script, b')).toBeNull();
      expect(container.textContent).toBe(text);
      expect(container.innerHTML).not.toMatch(/<img|<script|<b>/);
      expect(container.innerHTML).toContain('&lt;img src=x onerror=');
    });

    it.each([
      ['javascript:alert(1)'],
      ['JavaScript:alert(document.cookie)'],
      [' javascript:alert(1)'],
      ['data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
      ['vbscript:msgbox(1)'],
      ['/relative/path'],
      ['//evil.example/x'],
    ])('drops the address of a [link](%s) and keeps its words', (href) => {
      const { container } = render(<Markdown text={`Click [here](${href}) now`} />);
      expect(container.querySelector('a')).toBeNull();
      expect(container.textContent).toBe('Click here now');
    });

    it('does not link javascript: written out or in angle brackets, nor an onerror inside a link', () => {
      expect(html('javascript:alert(1) <javascript:alert(1)>')).not.toContain('<a');
      const { container } = render(<Markdown text={'[<img src=x onerror=alert(1)>](https://fal.ai)'} />);
      const link = container.querySelector('a');
      expect(link?.getAttribute('href')).toBe('https://fal.ai/');
      expect(link?.querySelector('img')).toBeNull();
      expect(link?.textContent).toBe('<img src=x onerror=alert(1)>');
    });

    it('gives every link only href, target and rel', () => {
      const { container } = render(<Markdown text={'[x](https://a.test "title" onclick="y")'} />);
      for (const a of container.querySelectorAll('a')) {
        expect(a.getAttributeNames().sort()).toEqual(['href', 'rel', 'target']);
      }
    });

    it('survives deep nesting and unclosed markers', () => {
      const deep = `${'*'.repeat(40)}x${'*'.repeat(40)} \`open [also](open **and _more`;
      expect(() => render(<Markdown text={deep} />)).not.toThrow();
      expect(() => render(<Markdown text={'['.repeat(5000) + '('.repeat(5000)} />)).not.toThrow();
    });
  });

  it('helpers: safe hrefs, blocks, plain text', () => {
    expect(safeHref('https://fal.ai')).toBe('https://fal.ai/');
    expect(safeHref('mailto:a@b.c')).toBeNull();
    expect(safeHref('not a url')).toBeNull();
    expect(parseBlocks('a\nb\n\n- c')).toEqual([
      { kind: 'p', text: 'a b' },
      { kind: 'ul', items: ['c'] },
    ]);
    expect(markdownText('Use `x` and **y**, see [docs](https://a.test).')).toBe('Use x and y, see docs.');
  });
});
