import { useId, useState, type FormEvent } from 'react';
import type { AdminUser, Role, User, UserChange } from '../../api/types';
import { Alert } from '../../components/Alert';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Loading } from '../../components/Loading';
import { formatUsd, KEY_SOURCE_LABELS, parseUsd } from '../../lib/budget';
import { useAdminUsers, useChangeUser } from './api';

const budgetText = (budget: number | null | undefined) => (budget == null ? '' : String(budget));

/** What a confirmation is about, for the one dialog the table shows at a time. */
type Pending = { kind: 'disable'; user: AdminUser } | { kind: 'demote-self'; user: AdminUser };

interface RowProps {
  user: AdminUser;
  /** A change of this account on its way: its role and studio-key box show it at once. */
  sending: UserChange | null;
  self: boolean;
  /**
   * The id of the note saying this is the studio's only enabled admin, when it is: it can be
   * neither made a member nor disabled (the server would refuse), and its controls say why.
   */
  onlyAdminNote: string | null;
  busy: boolean;
  error: string | null;
  onChange: (change: UserChange) => void;
  onAsk: (pending: Pending) => void;
  /** A new edit in this row: an earlier change's error, whichever row it was, is old news. */
  onEdit: () => void;
}

function UserRow({ user, sending, self, onlyAdminNote, busy, error, onChange, onAsk, onEdit }: RowProps) {
  const role = sending?.role ?? user.role;
  const mayUseStudioKey = sending?.mayUseStudioKey ?? user.mayUseStudioKey;
  const [budget, setBudget] = useState(budgetText(user.budgetMonthlyUsd));
  const [budgetError, setBudgetError] = useState<string | null>(null);
  const [shownBudget, setShownBudget] = useState(user.budgetMonthlyUsd);
  const budgetId = useId();
  const budgetErrorId = useId();
  // The server's answer (or another admin's change, on refetch) replaces what was typed.
  if (shownBudget !== user.budgetMonthlyUsd) {
    setShownBudget(user.budgetMonthlyUsd);
    setBudget(budgetText(user.budgetMonthlyUsd));
  }

  const onBudget = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onEdit();
    const parsed = parseUsd(budget);
    if (parsed !== null && typeof parsed === 'object') {
      setBudgetError(parsed.error);
      return;
    }
    setBudgetError(null);
    onChange({ budgetMonthlyUsd: parsed });
  };

  const onRole = (role: Role) => {
    if (role === 'member' && onlyAdminNote !== null) return;
    if (self && role === 'member') onAsk({ kind: 'demote-self', user });
    else onChange({ role });
  };

  return (
    <>
      <tr data-user-id={user.id} className={user.disabled ? 'user-disabled' : undefined}>
        <th scope="row" className="user-email">
          {user.email}
          {self && <span className="muted"> (you)</span>}
        </th>
        <td>
          <select
            aria-label={`Role of ${user.email}`}
            value={role}
            disabled={busy}
            aria-describedby={onlyAdminNote ?? undefined}
            onChange={(event) => onRole(event.target.value as Role)}
          >
            <option value="member" disabled={onlyAdminNote !== null}>
              Member
            </option>
            <option value="admin">Admin</option>
          </select>
        </td>
        <td data-testid="key-source" className="nowrap">
          {KEY_SOURCE_LABELS[user.keySource]}
        </td>
        <td className="nowrap">
          <label className="check">
            <input
              type="checkbox"
              checked={mayUseStudioKey}
              disabled={busy}
              onChange={(event) => onChange({ mayUseStudioKey: event.target.checked })}
            />
            <span className="visually-hidden">{user.email} may use the studio key</span>
            <span aria-hidden="true">{mayUseStudioKey ? 'Allowed' : 'Not allowed'}</span>
          </label>
        </td>
        <td className="num">{formatUsd(user.spentMonthUsd)}</td>
        <td className="num">{formatUsd(user.reservedUsd)}</td>
        <td>
          <form className="budget-form" onSubmit={onBudget} noValidate>
            <label htmlFor={budgetId} className="visually-hidden">
              Monthly budget of {user.email} in USD (empty: no limit)
            </label>
            <input
              id={budgetId}
              type="number"
              min={0}
              step={0.01}
              inputMode="decimal"
              placeholder="No limit"
              value={budget}
              disabled={busy}
              aria-invalid={budgetError !== null}
              aria-describedby={budgetError !== null ? budgetErrorId : undefined}
              onChange={(event) => setBudget(event.target.value)}
            />
            <button type="submit" className="button button-small" disabled={busy}>
              Save<span className="visually-hidden"> budget of {user.email}</span>
            </button>
            {budgetError !== null && (
              <p id={budgetErrorId} className="field-error">
                {budgetError}
              </p>
            )}
          </form>
        </td>
        <td>
          {user.disabled ? (
            <button type="button" className="button button-small" disabled={busy} onClick={() => onChange({ disabled: false })}>
              Enable<span className="visually-hidden"> {user.email}</span>
            </button>
          ) : (
            <button
              type="button"
              className="button button-small button-danger"
              disabled={busy || onlyAdminNote !== null}
              aria-describedby={onlyAdminNote ?? undefined}
              onClick={() => onAsk({ kind: 'disable', user })}
            >
              Disable<span className="visually-hidden"> {user.email}</span>
            </button>
          )}
          {onlyAdminNote !== null && <p className="muted user-state">Only admin</p>}
          {user.disabled && <p className="muted user-state">Disabled</p>}
        </td>
      </tr>
      {error !== null && (
        <tr className="row-error">
          <td colSpan={8}>
            <Alert tone="error">
              {user.email}: {error}
            </Alert>
          </td>
        </tr>
      )}
    </>
  );
}

/** Every account: role, key source, this month's spend, budget; change them, disable one. */
export function UsersPanel({ me }: { me: User }) {
  const users = useAdminUsers();
  const change = useChangeUser(me.id);
  const [pending, setPending] = useState<Pending | null>(null);
  // The last change's account, so its row shows the outcome (one change at a time).
  const [target, setTarget] = useState<string | null>(null);
  const onlyAdminNoteId = useId();

  const apply = (user: AdminUser, body: UserChange, after?: () => void) => {
    setTarget(user.id);
    change.mutate({ id: user.id, change: body }, { onSuccess: () => after?.() });
  };
  /** Forgets the last change's error: a dialog cancelled, or another edit begun. */
  const clearError = () => {
    if (!change.isPending) change.reset();
    setTarget(null);
  };
  const cancel = () => {
    clearError();
    setPending(null);
  };

  // The server keeps at least one enabled admin: the last one's role and access cannot change.
  const list = users.data?.users ?? [];
  const enabledAdmins = list.filter((user) => user.role === 'admin' && !user.disabled);
  const onlyAdmin = enabledAdmins.length === 1 ? (enabledAdmins[0] ?? null) : null;
  const otherAdmins = enabledAdmins.filter((user) => user.id !== me.id).length;

  let body;
  if (users.isPending) body = <Loading label="Loading accounts…" />;
  else if (users.isError)
    body = (
      <>
        <Alert tone="error">Could not load the accounts: {users.error.message}</Alert>
        <button type="button" className="button" onClick={() => void users.refetch()} disabled={users.isFetching}>
          Try again
        </button>
      </>
    );
  else
    body = (
      <>
        {onlyAdmin !== null && (
          <p id={onlyAdminNoteId} className="muted">
            {onlyAdmin.id === me.id
              ? 'You are the studio’s only admin: to make yourself a member or disable your account, first make another account an admin.'
              : `${onlyAdmin.email} is the studio’s only admin: make another account an admin before making it a member or disabling it.`}
          </p>
        )}
        <div className="table-scroll" role="region" aria-label="Accounts table" tabIndex={0}>
          <table className="admin-table">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Role</th>
                <th scope="col">Key</th>
                <th scope="col">Studio key</th>
                <th scope="col" className="num">
                  Spent this month
                </th>
                <th scope="col" className="num">
                  Reserved
                </th>
                <th scope="col">Monthly budget (USD)</th>
                <th scope="col">Access</th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((user) => (
                <UserRow
                  key={user.id}
                  user={user}
                  sending={change.isPending && change.variables.id === user.id ? change.variables.change : null}
                  self={user.id === me.id}
                  onlyAdminNote={onlyAdmin?.id === user.id ? onlyAdminNoteId : null}
                  busy={change.isPending}
                  error={change.error !== null && target === user.id && pending === null ? change.error.message : null}
                  onChange={(body) => apply(user, body)}
                  onAsk={(ask) => {
                    clearError();
                    setPending(ask);
                  }}
                  onEdit={clearError}
                />
              ))}
            </tbody>
          </table>
        </div>
      </>
    );

  return (
    <section className="card" aria-labelledby="users-heading">
      <h2 id="users-heading">Accounts</h2>
      <p className="muted">
        Spent is this month’s completed jobs at fal’s published prices; reserved is what waiting and running jobs are
        expected to cost. A budget caps both together; empty means no limit.
      </p>
      {body}
      {pending?.kind === 'disable' && (
        <ConfirmDialog
          title={`Disable ${pending.user.email}?`}
          confirmLabel="Disable account"
          pendingLabel="Disabling…"
          pending={change.isPending}
          error={change.error?.message ?? null}
          onCancel={cancel}
          onConfirm={() => apply(pending.user, { disabled: true }, () => setPending(null))}
        >
          <p>
            This signs them out at once, on every device, and they cannot sign in until the account is enabled again.
          </p>
        </ConfirmDialog>
      )}
      {pending?.kind === 'demote-self' && (
        <ConfirmDialog
          title="Make yourself a member?"
          confirmLabel="Make me a member"
          pendingLabel="Changing…"
          pending={change.isPending}
          error={change.error?.message ?? null}
          onCancel={cancel}
          onConfirm={() => apply(pending.user, { role: 'member' }, () => setPending(null))}
        >
          <p>
            You will lose this admin page at once.{' '}
            {otherAdmins === 0
              ? 'No other admin could make you an admin again.'
              : otherAdmins === 1
                ? 'The other admin can make you an admin again.'
                : `Any of the ${otherAdmins} other admins can make you an admin again.`}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
