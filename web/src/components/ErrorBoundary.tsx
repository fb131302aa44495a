import { Component, type ReactNode } from 'react';
import { Alert } from './Alert';

interface Props {
  /** What broke, for the message: "this model's form". */
  what: string;
  children: ReactNode;
}

/** Keeps one broken part of a page from blanking the whole page; shows what failed instead. */
export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override render() {
    if (this.state.error !== null) {
      return (
        <Alert tone="error">
          Could not show {this.props.what}: {this.state.error.message}
        </Alert>
      );
    }
    return this.props.children;
  }
}
