// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdminUser, StudioSettings, User } from '../../api/types';
import { apiError, json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { SettingsPanel } from './SettingsPanel';
import { StudioKeyPanel } from './StudioKeyPanel';
import { UsagePanel } from './UsagePanel';
import { UsersPanel } from './UsersPanel';

// uPlot draws on a canvas, which happy-dom has not: what is drawn is checked in the browser tests.
const drawBarChart = vi.hoisted(() => vi.fn((_element: HTMLElement, _bars: unknown, _format: unknown) => () => {}));
vi.mock('./barChart', () => ({ drawBarChart }));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  drawBarChart.mockClear();
});

const me: User = { id: 'admin', email: 'root@example.com', hasFalKey: true, role: 'admin', mayUseStudioKey: false };
const admin: AdminUser = {
  id: 'admin',
  email: 'root@example.com',
  role: 'admin',
  disabled: false,
  keySource: 'own',
  mayUseStudioKey: false,
  budgetMonthlyUsd: null,
  spentMonthUsd: 1.2,
  reservedUsd: 0,
};
const ada: AdminUser = {
  id: 'ada',
  email: 'ada@example.com',
  role: 'member',
  disabled: false,
  keySource: 'none',
  mayUseStudioKey: false,
  budgetMonthlyUsd: 5,
  spentMonthUsd: 0.06,
  reservedUsd: 0.03,
};

/** A server whose PATCH applies the change to the account, like the real one. */
function usersServer(extra: Record<string, Response | ((call: Call) => Response)> = {}) {
  return stubServer({
    'GET /api/admin/users': json(200, { users: [admin, ada] }),
    'PATCH /api/admin/users/ada': (call) => {
      const change = call.body as Partial<AdminUser>;
      const keySource = change.mayUseStudioKey === true ? 'studio' : ada.keySource;
      return json(200, { ...ada, keySource, ...change });
    },
    ...extra,
  });
}

const row = (email: string) => {
  const cell = screen.getByRole('rowheader', { name: new RegExp(`^${email}`) });
  const tr = cell.closest('tr');
  if (tr === null) throw new Error(`no row for ${email}`);
  return tr;
};
const patches = (calls: Call[]) => calls.filter((c) => c.key.startsWith('PATCH ')).map((c) => [c.key, c.body]);

describe('admin: accounts', () => {
  it('lists every account with its role, key source in words, spend and budget', async () => {
    usersServer();
    renderWithProviders(<UsersPanel me={me} />);
    await screen.findByRole('rowheader', { name: /^ada@example.com/ });
    const headers = within(screen.getByRole('table')).getAllByRole('columnheader').map((h) => h.textContent);
    expect(headers).toEqual(['Account', 'Role', 'Key', 'Studio key', 'Spent this month', 'Reserved', 'Monthly budget (USD)', 'Access']);
    expect(within(row('root@example.com')).getByTestId('key-source').textContent).toBe('Own key');
    expect(within(row('root@example.com')).getByRole('rowheader').textContent).toBe('root@example.com (you)');
    const adaRow = within(row('ada@example.com'));
    expect(adaRow.getByTestId('key-source').textContent).toBe('No key');
    expect(adaRow.getByText('$0.06')).toBeTruthy();
    expect(adaRow.getByText('$0.03')).toBeTruthy();
    expect((adaRow.getByLabelText(/^Monthly budget of ada@example.com/) as HTMLInputElement).value).toBe('5');
    expect((adaRow.getByLabelText('Role of ada@example.com') as HTMLSelectElement).value).toBe('member');
  });

  it('changes a role, allows the studio key, and sets and clears a budget', async () => {
    const { calls } = usersServer();
    renderWithProviders(<UsersPanel me={me} />);
    const user = userEvent.setup();
    await screen.findByRole('rowheader', { name: /^ada@example.com/ });

    await user.selectOptions(within(row('ada@example.com')).getByLabelText('Role of ada@example.com'), 'admin');
    await waitFor(() => expect(patches(calls)).toEqual([['PATCH /api/admin/users/ada', { role: 'admin' }]]));

    await user.click(within(row('ada@example.com')).getByRole('checkbox', { name: 'ada@example.com may use the studio key' }));
    await waitFor(() => expect(within(row('ada@example.com')).getByTestId('key-source').textContent).toBe('Studio key'));
    expect(patches(calls)[1]).toEqual(['PATCH /api/admin/users/ada', { mayUseStudioKey: true }]);

    const budget = within(row('ada@example.com')).getByLabelText(/^Monthly budget of ada@example.com/);
    await user.clear(budget);
    await user.type(budget, '0.05');
    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Save budget of ada@example.com' }));
    await waitFor(() => expect(patches(calls)[2]).toEqual(['PATCH /api/admin/users/ada', { budgetMonthlyUsd: 0.05 }]));

    await user.clear(budget);
    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Save budget of ada@example.com' }));
    await waitFor(() => expect(patches(calls)[3]).toEqual(['PATCH /api/admin/users/ada', { budgetMonthlyUsd: null }]));
  });

  it('refuses a budget that is not an amount without asking the server', async () => {
    const { calls } = usersServer();
    renderWithProviders(<UsersPanel me={me} />);
    const user = userEvent.setup();
    await screen.findByRole('rowheader', { name: /^ada@example.com/ });
    const budget = within(row('ada@example.com')).getByLabelText(/^Monthly budget of ada@example.com/);
    await user.clear(budget);
    await user.type(budget, '-3');
    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Save budget of ada@example.com' }));
    expect(within(row('ada@example.com')).getByText(/amount in USD from 0/)).toBeTruthy();
    expect(budget.getAttribute('aria-invalid')).toBe('true');
    expect(patches(calls)).toEqual([]);
  });

  it('disables an account only after confirming, saying it signs them out at once', async () => {
    const { calls } = usersServer();
    renderWithProviders(<UsersPanel me={me} />);
    const user = userEvent.setup();
    await screen.findByRole('rowheader', { name: /^ada@example.com/ });

    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Disable ada@example.com' }));
    const dialog = screen.getByRole('dialog', { name: 'Disable ada@example.com?' });
    expect(dialog.textContent).toMatch(/signs them out at once/);
    expect(patches(calls)).toEqual([]);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(patches(calls)).toEqual([]);

    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Disable ada@example.com' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Disable account' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(patches(calls)).toEqual([['PATCH /api/admin/users/ada', { disabled: true }]]);
    expect(within(row('ada@example.com')).getByText('Disabled')).toBeTruthy();

    // Enabling again needs no confirmation.
    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Enable ada@example.com' }));
    await waitFor(() => expect(patches(calls)[1]).toEqual(['PATCH /api/admin/users/ada', { disabled: false }]));
  });

  it('knows the only admin up front: it can be neither made a member nor disabled, and says why', async () => {
    const { calls } = usersServer();
    renderWithProviders(<UsersPanel me={me} />);
    await screen.findByRole('rowheader', { name: /^ada@example.com/ });

    const note = screen.getByText(/^You are the studio’s only admin/);
    const role = within(row('root@example.com')).getByLabelText('Role of root@example.com') as HTMLSelectElement;
    expect(role.getAttribute('aria-describedby')).toBe(note.id);
    expect((within(role).getByRole('option', { name: 'Member' }) as HTMLOptionElement).disabled).toBe(true);
    const disable = within(row('root@example.com')).getByRole('button', { name: 'Disable root@example.com' });
    expect(disable).toHaveProperty('disabled', true);
    expect(disable.getAttribute('aria-describedby')).toBe(note.id);
    expect(within(row('root@example.com')).getByText('Only admin')).toBeTruthy();
    // Not the other accounts.
    expect(within(row('ada@example.com')).getByRole('button', { name: 'Disable ada@example.com' })).toHaveProperty('disabled', false);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(patches(calls)).toEqual([]);
  });

  it('lets an admin step down when another admin can undo it, saying so', async () => {
    const bea: AdminUser = { ...ada, id: 'bea', email: 'bea@example.com', role: 'admin' };
    const { calls } = stubServer({
      'GET /api/admin/users': json(200, { users: [admin, ada, bea] }),
      'PATCH /api/admin/users/admin': json(200, { ...admin, role: 'member' }),
    });
    renderWithProviders(<UsersPanel me={me} />);
    const user = userEvent.setup();
    await screen.findByRole('rowheader', { name: /^bea@example.com/ });
    expect(screen.queryByText(/only admin/)).toBeNull();

    await user.selectOptions(within(row('root@example.com')).getByLabelText('Role of root@example.com'), 'member');
    const dialog = screen.getByRole('dialog', { name: 'Make yourself a member?' });
    expect(dialog.textContent).toContain('The other admin can make you an admin again.');
    await user.click(within(dialog).getByRole('button', { name: 'Make me a member' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(patches(calls)).toEqual([['PATCH /api/admin/users/admin', { role: 'member' }]]);
  });

  it('shows a refusal in the dialog, and forgets it on Cancel and on the next edit', async () => {
    // The list says there is another admin; the server knows better (changed meanwhile).
    const lastAdmin = 'This would leave the studio without an enabled admin. Make another account an admin first.';
    const bea: AdminUser = { ...ada, id: 'bea', email: 'bea@example.com', role: 'admin' };
    const { calls } = stubServer({
      'GET /api/admin/users': json(200, { users: [admin, ada, bea] }),
      'PATCH /api/admin/users/admin': apiError(409, 'conflict', lastAdmin),
      'PATCH /api/admin/users/ada': apiError(422, 'invalid_request', 'A budget must be at most 1,000,000.'),
    });
    renderWithProviders(<UsersPanel me={me} />);
    const user = userEvent.setup();
    await screen.findByRole('rowheader', { name: /^bea@example.com/ });

    await user.click(within(row('root@example.com')).getByRole('button', { name: 'Disable root@example.com' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Disable account' }));
    expect((await within(screen.getByRole('dialog')).findByRole('alert')).textContent).toBe(lastAdmin);
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    // Cancelled: the refusal is not left behind in the table.
    expect(screen.queryByRole('alert')).toBeNull();

    await user.selectOptions(within(row('root@example.com')).getByLabelText('Role of root@example.com'), 'member');
    await user.click(within(screen.getByRole('dialog', { name: 'Make yourself a member?' })).getByRole('button', { name: 'Make me a member' }));
    expect((await within(screen.getByRole('dialog')).findByRole('alert')).textContent).toBe(lastAdmin);
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alert')).toBeNull();

    // Another row's edit shows its own outcome only; a budget refused on the spot clears it.
    const budget = within(row('ada@example.com')).getByLabelText(/^Monthly budget of ada@example.com/);
    await user.clear(budget);
    await user.type(budget, '5000');
    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Save budget of ada@example.com' }));
    expect((await screen.findByRole('alert')).textContent).toBe('ada@example.com: A budget must be at most 1,000,000.');
    await user.clear(budget);
    await user.type(budget, '-1');
    await user.click(within(row('ada@example.com')).getByRole('button', { name: 'Save budget of ada@example.com' }));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(within(row('ada@example.com')).getByText(/amount in USD from 0/)).toBeTruthy();
    expect(patches(calls).map(([key]) => key)).toEqual([
      'PATCH /api/admin/users/admin',
      'PATCH /api/admin/users/admin',
      'PATCH /api/admin/users/ada',
    ]);
  });
});

describe('admin: studio key', () => {
  it('saves a key through a password input and never shows it again', async () => {
    const secret = 'studio-kid:studio-secret';
    const { calls } = stubServer({
      'GET /api/admin/studio-key': json(200, { present: false }),
      'PUT /api/admin/studio-key': json(200, { present: true, keyId: 'studio-kid' }),
      'GET /api/admin/users': json(200, { users: [] }),
      'GET /api/admin/settings': apiError(500, 'internal', 'not in this test'),
      'GET /api/account/budget': apiError(500, 'internal', 'not in this test'),
    });
    const { container } = renderWithProviders(<StudioKeyPanel />);
    const user = userEvent.setup();
    expect((await screen.findByTestId('studio-key-status')).textContent).toBe('No studio key saved.');

    const input = screen.getByLabelText('Studio fal key') as HTMLInputElement;
    expect(input.type).toBe('password');
    await user.type(input, secret);
    await user.click(screen.getByRole('button', { name: 'Save studio key' }));

    expect((await screen.findByRole('status')).textContent).toBe('Studio key saved.');
    expect(calls.find((c) => c.key === 'PUT /api/admin/studio-key')?.body).toEqual({ key: secret });
    expect(screen.getByTestId('studio-key-status').textContent).toBe('A studio key is saved (key id studio-kid).');
    const replaced = screen.getByLabelText('New studio fal key') as HTMLInputElement;
    expect(replaced.value).toBe('');
    expect(replaced.type).toBe('password');
    expect(container.innerHTML).not.toContain('studio-secret');
  });

  it('explains a key fal rejects, and removes the key only after confirming', async () => {
    const { calls } = stubServer({
      'GET /api/admin/studio-key': json(200, { present: true, keyId: 'old-kid' }),
      'PUT /api/admin/studio-key': apiError(401, 'invalid_key', 'Invalid key'),
      'DELETE /api/admin/studio-key': json(200, { present: false }),
    });
    renderWithProviders(<StudioKeyPanel />);
    const user = userEvent.setup();
    await screen.findByText('old-kid');

    await user.type(screen.getByLabelText('New studio fal key'), 'invalid:key');
    await user.click(screen.getByRole('button', { name: 'Replace studio key' }));
    expect(await screen.findByText(/^fal rejected this key.*Nothing was saved\.$/)).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Remove studio key' }));
    const dialog = screen.getByRole('dialog', { name: 'Remove the studio key?' });
    expect(calls.some((c) => c.key === 'DELETE /api/admin/studio-key')).toBe(false);
    await user.click(within(dialog).getByRole('button', { name: 'Remove studio key' }));
    expect((await screen.findByText('Studio key removed.')).textContent).toBe('Studio key removed.');
    expect(screen.getByTestId('studio-key-status').textContent).toBe('No studio key saved.');
  });
});

describe('admin: settings', () => {
  const settings: StudioSettings = {
    providerRetention: { storeIo: true, mediaExpirySeconds: null },
    studioKeyConcurrency: 2,
    studioBudgetMonthlyUsd: null,
    unpricedGenerations: 'refuse',
    unpricedReserveUsd: 0.5,
    studioKey: { present: true, keyId: 'kid' },
    studioBudget: { budgetMonthlyUsd: null, remainingUsd: null, spentMonthUsd: 3, reservedUsd: 0.25, resetsAt: '2027-01-01T00:00:00Z', warning: false },
  };

  it('sends every setting as the form has it', async () => {
    const { calls } = stubServer({
      'GET /api/admin/settings': json(200, settings),
      'PUT /api/admin/settings': (call) => json(200, { ...settings, ...(call.body as object) }),
    });
    renderWithProviders(<SettingsPanel />);
    const user = userEvent.setup();
    const history = await screen.findByRole('checkbox', { name: 'Let fal keep request history' });
    expect(screen.getByText('Jan 1, 2027')).toBeTruthy();

    await user.click(history);
    await user.click(screen.getByRole('radio', { name: 'Delete after' }));
    const amount = screen.getByLabelText('Time fal keeps files');
    await user.clear(amount);
    await user.type(amount, '48');
    const concurrency = screen.getByLabelText('Studio key: requests at fal at once');
    expect(screen.getByText(/fal starts an account at 2 requests at once/)).toBeTruthy();
    await user.clear(concurrency);
    await user.type(concurrency, '10');
    await user.type(screen.getByLabelText('Studio key: monthly budget (USD)'), '100');
    await user.click(screen.getByRole('radio', { name: 'Run them, reserving' }));
    const reserve = screen.getByLabelText('USD reserved for each run');
    await user.clear(reserve);
    await user.type(reserve, '0.2');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));

    expect((await screen.findByRole('status')).textContent).toBe('Settings saved.');
    expect(calls.find((c) => c.key === 'PUT /api/admin/settings')?.body).toEqual({
      providerRetention: { storeIo: false, mediaExpirySeconds: 48 * 3600 },
      studioKeyConcurrency: 10,
      studioBudgetMonthlyUsd: 100,
      unpricedGenerations: 'reserve',
      unpricedReserveUsd: 0.2,
    });
  });

  it('keeps a concurrency out of range from the server', async () => {
    const { calls } = stubServer({ 'GET /api/admin/settings': json(200, settings) });
    renderWithProviders(<SettingsPanel />);
    const user = userEvent.setup();
    const concurrency = await screen.findByLabelText('Studio key: requests at fal at once');
    await user.clear(concurrency);
    await user.type(concurrency, '1001');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(screen.getByText('Enter a whole number from 1 to 1000.')).toBeTruthy();
    expect(calls.some((c) => c.key === 'PUT /api/admin/settings')).toBe(false);
  });
});

describe('admin: usage', () => {
  const rows = [
    { key: 'u1', label: 'ada@example.com', estimatedUsd: 0.06, jobs: 2, unpricedJobs: 0 },
    { key: 'u2', label: 'Bob, "the builder"', estimatedUsd: 1.5, reconciledUsd: 1.25, jobs: 10, unpricedJobs: 0 },
  ];

  it('asks for this month by user, shows the rows, and downloads them as CSV', async () => {
    const { calls } = stubServer({
      'GET /api/admin/usage': (call) => {
        const search = new URLSearchParams(call.search);
        return json(200, { from: search.get('from'), to: search.get('to'), rows });
      },
    });
    const blobs: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      blobs.push(blob as Blob);
      return 'blob:usage';
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    renderWithProviders(<UsagePanel />);
    const user = userEvent.setup();

    await screen.findByRole('rowheader', { name: 'ada@example.com' });
    const search = new URLSearchParams(calls[0]?.search);
    const today = new Date().toISOString().slice(0, 10);
    expect([search.get('from'), search.get('to'), search.get('groupBy')]).toEqual([`${today.slice(0, 8)}01`, today, 'user']);
    expect(screen.getByTestId('usage-total').textContent).toBe('$1.56');
    const chart = screen.getByRole('img', { name: /^Estimated USD by user: / });
    expect(chart.getAttribute('aria-label')).toBe('Estimated USD by user: ada@example.com $0.06, Bob, "the builder" $1.50');
    await waitFor(() => expect(chart.dataset.state).toBe('drawn'));
    expect(drawBarChart.mock.calls[0]?.[1]).toEqual([
      { label: 'ada@example.com', value: 0.06 },
      { label: 'Bob, "the builder"', value: 1.5 },
    ]);

    await user.click(screen.getByRole('button', { name: 'Download CSV' }));
    expect(click).toHaveBeenCalledTimes(1);
    expect(blobs).toHaveLength(1);
    expect(await blobs[0]?.text()).toBe(
      'key,label,estimated_usd,reconciled_usd,jobs,unpriced_jobs\r\nu1,ada@example.com,0.06,,2,0\r\nu2,"Bob, ""the builder""",1.5,1.25,10,0\r\n',
    );

    await user.selectOptions(screen.getByLabelText('Group by'), 'model');
    await waitFor(() => expect(new URLSearchParams(calls.at(-1)?.search).get('groupBy')).toBe('model'));
  });

  it('says "price unknown" for models fal publishes no price for, never $0.00', async () => {
    stubServer({
      'GET /api/admin/usage': json(200, {
        from: '2026-12-01',
        to: '2026-12-04',
        rows: [
          { key: 'fal-ai/veo3', label: 'Veo 3', estimatedUsd: 0, jobs: 3, unpricedJobs: 3 },
          { key: 'fal-ai/flux/dev', label: 'FLUX.1 [dev]', estimatedUsd: 0.06, jobs: 4, unpricedJobs: 2 },
        ],
      }),
    });
    renderWithProviders(<UsagePanel />);
    await screen.findByRole('rowheader', { name: /^Veo 3/ });
    const cells = (label: RegExp) =>
      [...(screen.getByRole('rowheader', { name: label }).closest('tr')?.querySelectorAll('td') ?? [])].map((td) => td.textContent);
    expect(cells(/^Veo 3/)).toEqual(['3', 'price unknown']);
    expect(cells(/^FLUX/)).toEqual(['4', '$0.06 + 2 jobs without a price']);
    expect(screen.getByTestId('usage-total').textContent).toBe('$0.06 + 5 jobs without a price');
    expect(screen.getByTestId('usage-chart').getAttribute('aria-label')).toBe(
      'Estimated USD by user: Veo 3 price unknown, FLUX.1 [dev] $0.06 + 2 jobs without a price',
    );
  });

  it('asks nothing for a reversed range, and says so', async () => {
    const { calls } = stubServer({ 'GET /api/admin/usage': json(200, { from: '2026-12-01', to: '2026-12-04', rows: [] }) });
    renderWithProviders(<UsagePanel />);
    await screen.findByText('No completed jobs in these days.');
    const from = screen.getByLabelText('From');
    const user = userEvent.setup();
    await user.clear(from);
    await user.type(from, '2999-01-01');
    expect(screen.getByText('The first day must not be after the last.')).toBeTruthy();
    expect(calls).toHaveLength(1);
    expect((screen.getByRole('button', { name: 'Download CSV' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
