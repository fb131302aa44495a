import type { ReactNode } from 'react';

interface AlertProps {
  id?: string;
  tone: 'error' | 'success' | 'info';
  children: ReactNode;
}

/** Errors interrupt (`role="alert"`); confirmations and notes are polite (`role="status"`). */
export function Alert({ id, tone, children }: AlertProps) {
  return (
    <div id={id} className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
