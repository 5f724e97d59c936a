// `@hatchery/ui`: what a plugin's browser module gets from the panel. The import map
// sends `@hatchery/ui` here. The types describe the props every contribution receives;
// the components are the panel's own, so a plugin looks like the rest of the panel.

export {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Box,
  Breadcrumbs,
  Button,
  Card,
  Center,
  Checkbox,
  CloseButton,
  Code,
  Divider,
  Group,
  Kbd,
  Loader,
  Menu,
  Modal,
  NumberInput,
  Paper,
  Progress,
  ScrollArea,
  SegmentedControl,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
} from '@mantine/core';
export { useDebouncedValue, useMediaQuery } from '@mantine/hooks';

/** Where a plugin route lives: its scope, as in the manifest. */
export type RouteScope = 'panel' | 'server' | 'admin' | 'account';

export interface ApiAnswer<T> {
  status: number;
  ok: boolean;
  /** The JSON body, or null. */
  body: T | null;
}

/**
 * Calls the plugin's own routes (and only those) as the signed-in person: `panel`
 * routes under `/api/plugins/<id>`, `server` routes on the slot's server, `admin` and
 * `account` routes in their scopes. In a sandboxed frame the panel page makes the call.
 */
export interface PluginApi {
  request<T = unknown>(method: string, path: string, body?: unknown, scope?: RouteScope): Promise<ApiAnswer<T>>;
}

/** Props every contribution's component receives. */
export interface SlotProps {
  plugin: string;
  slot: string;
  /** The person looking. */
  user: { username: string; admin: boolean };
  /**
   * Set on server slots (`server.tabs/v1`). `permissions` are the person's on this
   * server (`["*"]` for its owner and administrators), to hide what they cannot do;
   * the panel checks every call again whatever the page shows.
   */
  server?: { uuid: string; short_id: string; name: string; permissions: string[] };
  api: PluginApi;
}

/** The slots of this panel version; a slot id carries its version. */
export const SLOTS = [
  'dashboard.widgets/v1',
  'server.tabs/v1',
  'admin.pages/v1',
  'admin.overview.cards/v1',
] as const;

export type SlotId = (typeof SLOTS)[number];
