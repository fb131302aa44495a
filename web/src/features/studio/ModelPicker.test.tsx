// @vitest-environment happy-dom
import { cleanup, fireEvent, render } from '@testing-library/react';
import { useRef, type KeyboardEvent } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { pickerArrowKeys } from './ModelPicker';

afterEach(cleanup);

function Picker() {
  const scope = useRef<HTMLDivElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const keys = (event: KeyboardEvent<HTMLElement>) => pickerArrowKeys(event, scope.current, search.current);
  return (
    <>
      <input ref={search} aria-label="Search models" onKeyDown={keys} />
      <div ref={scope} onKeyDown={keys}>
        {['a', 'b', 'c'].map((name) => (
          <div key={name}>
            <button type="button" className="model-select">
              {name}
            </button>
            <button type="button" className="star">
              star {name}
            </button>
          </div>
        ))}
      </div>
    </>
  );
}

const focusedText = () => document.activeElement?.textContent ?? (document.activeElement as HTMLInputElement | null)?.getAttribute('aria-label');

describe('pickerArrowKeys', () => {
  it('enters the list from the search box and moves between models only', () => {
    const { getByLabelText } = render(<Picker />);
    const search = getByLabelText('Search models');
    search.focus();
    fireEvent.keyDown(search, { key: 'ArrowDown' });
    expect(focusedText()).toBe('a');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(focusedText()).toBe('b');
    fireEvent.keyDown(document.activeElement!, { key: 'End' });
    expect(focusedText()).toBe('c');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(focusedText()).toBe('c');
    fireEvent.keyDown(document.activeElement!, { key: 'Home' });
    expect(focusedText()).toBe('a');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(search);
  });

  it('leaves other keys, modified arrows and the star buttons alone', () => {
    const { getByText } = render(<Picker />);
    const star = getByText('star b');
    star.focus();
    fireEvent.keyDown(star, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(star);
    const model = getByText('b');
    model.focus();
    fireEvent.keyDown(model, { key: 'ArrowDown', shiftKey: true });
    expect(document.activeElement).toBe(model);
  });
});
