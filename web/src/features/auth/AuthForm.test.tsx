// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, json, renderWithProviders, stubServer } from '../../test/harness';
import { AuthForm, signupUnavailable } from './AuthForm';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

async function fillAndSubmit(button: string, email = 'ada@example.com', password = 'long enough password') {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Email'), email);
  await user.type(screen.getByLabelText('Password'), password);
  await user.click(screen.getByRole('button', { name: button }));
}

describe('sign up', () => {
  it('shows "already registered" inline and marks both fields invalid', async () => {
    stubServer({ 'POST /api/auth/signup': apiError(409, 'conflict', 'This email is already registered.') });
    renderWithProviders(<AuthForm mode="signup" />, '/signup');
    await fillAndSubmit('Create account');

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('This email is already registered.');
    for (const label of ['Email', 'Password']) {
      const input = screen.getByLabelText(label);
      expect(input.getAttribute('aria-invalid')).toBe('true');
      expect(input.getAttribute('aria-describedby')).toContain(alert.id);
    }
  });

  it('says a field problem once, under its field, as a sentence, and moves focus there', async () => {
    stubServer({
      'POST /api/auth/signup': apiError(422, 'invalid_request', 'Use a password of 8 to 1024 characters.', [
        { field: 'password', message: 'must be 8 to 1024 characters' },
      ]),
    });
    renderWithProviders(<AuthForm mode="signup" />, '/signup');
    await fillAndSubmit('Create account', 'ada@example.com', 'short');

    const error = await screen.findByText('Password must be 8 to 1024 characters.');
    const password = screen.getByLabelText('Password');
    expect(password.getAttribute('aria-invalid')).toBe('true');
    expect(password.getAttribute('aria-describedby')).toContain(error.id);
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('false');
    // Not a second time in a banner, nor in the server's other words.
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByText('Use a password of 8 to 1024 characters.')).toBeNull();
    expect(screen.queryByText('must be 8 to 1024 characters')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(password));
  });

  it('writes an email problem as a sentence too', async () => {
    stubServer({
      'POST /api/auth/signup': apiError(422, 'invalid_request', 'Enter a valid email address, like name@example.com.', [
        { field: 'email', message: 'not a valid email address' },
      ]),
    });
    renderWithProviders(<AuthForm mode="signup" />, '/signup');
    await fillAndSubmit('Create account', 'ada@', 'long enough password');
    const error = await screen.findByText('Email is not a valid email address.');
    const email = screen.getByLabelText('Email');
    expect(email.getAttribute('aria-describedby')).toContain(error.id);
    expect(screen.queryByRole('alert')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(email));
  });

  it('disables the form while the request is in flight and sends credentials', async () => {
    let answer: (response: Response) => void = () => {};
    const pending = new Promise<Response>((resolve) => {
      answer = resolve;
    });
    const { calls } = stubServer({ 'POST /api/auth/signup': pending });
    renderWithProviders(<AuthForm mode="signup" />, '/signup');
    await fillAndSubmit('Create account');

    const button = await screen.findByRole('button', { name: 'Creating account…' });
    expect(button).toHaveProperty('disabled', true);
    expect(screen.getByLabelText('Email')).toHaveProperty('disabled', true);
    expect(calls.filter((call) => call.key.startsWith('POST'))).toEqual([
      {
        key: 'POST /api/auth/signup',
        body: { email: 'ada@example.com', password: 'long enough password' },
        credentials: 'include',
      },
    ]);
    answer(json(201, { user: { id: 'u1', email: 'ada@example.com', hasFalKey: false } }));
    await screen.findByRole('button', { name: 'Create account' });
  });
});

describe('sign up by invite', () => {
  it('explains that an invite link is needed instead of showing a form that cannot work', async () => {
    stubServer({ 'GET /api/auth/signup-policy': json(200, { mode: 'invite' }) });
    renderWithProviders(<AuthForm mode="signup" />, '/signup');
    await screen.findByText(/signs people up by invitation/);
    expect(screen.queryByLabelText('Email')).toBeNull();
  });

  it('sends the invite of the link it was opened with', async () => {
    const { calls } = stubServer({
      'GET /api/auth/signup-policy': json(200, { mode: 'invite' }),
      'POST /api/auth/signup': json(201, { user: { id: 'u1', email: 'ada@example.com', hasFalKey: false } }),
    });
    renderWithProviders(<AuthForm mode="signup" />, '/signup?invite=tok123');
    await screen.findByText(/You were invited/);
    await fillAndSubmit('Create account');
    await vi.waitFor(() => {
      expect(calls.find((call) => call.key === 'POST /api/auth/signup')?.body).toEqual({
        email: 'ada@example.com',
        password: 'long enough password',
        invite: 'tok123',
      });
    });
  });
});

describe('sign in', () => {
  it.each([
    [401, 'unauthorized', 'Wrong email or password.'],
    [429, 'rate_limited', 'Too many attempts. Wait a minute and try again.'],
  ])('shows the server message for %i %s', async (status, category, message) => {
    stubServer({ 'POST /api/auth/login': apiError(status, category, message) });
    renderWithProviders(<AuthForm mode="login" />, '/login');
    await fillAndSubmit('Sign in');
    expect((await screen.findByRole('alert')).textContent).toBe(message);
    expect(screen.getByRole('button', { name: 'Sign in' })).toHaveProperty('disabled', false);
  });

  it('says the studio server could not be reached when fetch fails', async () => {
    stubServer({
      'POST /api/auth/login': () => {
        throw new TypeError('Failed to fetch');
      },
    });
    renderWithProviders(<AuthForm mode="login" />, '/login');
    await fillAndSubmit('Sign in');
    expect((await screen.findByRole('alert')).textContent).toMatch(/studio server could not be reached/);
  });
});

describe('signupUnavailable', () => {
  it.each([
    ['open', undefined, null],
    ['open', 'tok', null],
    ['invite', 'tok', null],
    [undefined, undefined, null],
  ] as const)('mode %s with invite %s: the form is usable', (mode, invite, expected) => {
    expect(signupUnavailable(mode, invite)).toBe(expected);
  });

  it('says why when sign-up is closed or needs an invite', () => {
    expect(signupUnavailable('closed', 'tok')).toMatch(/closed/);
    expect(signupUnavailable('invite', undefined)).toMatch(/invite link/);
  });
});
