import { Alert } from '@mantine/core';
import { Component, type ReactNode } from 'react';

/** What a broken plugin contribution shows instead of itself: small, and only there. */
export function PluginError({ plugin, message }: { plugin: string; message: string }) {
  return (
    <Alert color="red" variant="light" title={`${plugin} could not show this`} data-testid="plugin-error">
      {message}. The rest of the page works; an administrator can update or disable the plugin.
    </Alert>
  );
}

/** Catches a contribution's render errors so one plugin never blanks a page. */
export class PluginErrorBoundary extends Component<{ plugin: string; children: ReactNode }, { error: string | null }> {
  override state = { error: null as string | null };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error.message : String(error) };
  }

  override render() {
    if (this.state.error !== null) {
      return <PluginError plugin={this.props.plugin} message={this.state.error} />;
    }
    return this.props.children;
  }
}
