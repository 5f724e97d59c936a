import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  FileButton,
  Group,
  JsonInput,
  Loader,
  Modal,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { type Plugin, grantsFrom } from '../../lib/admin';
import { api, errorFrom, fieldError, unplacedError } from '../../lib/api';
import { type SettingField, settingFields } from '../../lib/schemaForm';
import { toggled } from '../../lib/sets';
import { Empty, ErrorNotice, FormButtons } from '../parts';

const STATE_COLOR = { enabled: 'green', disabled: 'gray', failed: 'red' } as const;

/** Plugins: install from a package (with a consent screen), enable, disable, settings. */
export function PluginsPage() {
  const queries = useQueryClient();
  const plugins = useQuery({
    queryKey: ['admin', 'plugins'],
    queryFn: () => api<{ plugins: Plugin[] }>('GET', '/api/admin/plugins').then((answer) => answer.plugins),
  });
  const [consenting, setConsenting] = useState<Plugin | null>(null);
  const [configuring, setConfiguring] = useState<Plugin | null>(null);
  // What plugins add to pages changes with them.
  const refresh = () =>
    Promise.all([
      queries.invalidateQueries({ queryKey: ['admin', 'plugins'] }),
      queries.invalidateQueries({ queryKey: ['ui', 'contributions'] }),
    ]);
  const upload = useMutation({
    mutationFn: async (file: File) => {
      // Installed but not enabled: nothing runs before the administrator consents.
      const response = await fetch('/api/admin/plugins?enable=false', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/octet-stream' },
        body: file,
      });
      const answer: unknown = await response.json().catch(() => null);
      if (!response.ok) {
        throw errorFrom(response.status, answer);
      }
      return answer as Plugin;
    },
    onSuccess: async (plugin) => {
      await refresh();
      setConsenting(plugin);
    },
  });
  const act = useMutation({
    mutationFn: ({ plugin, action }: { plugin: Plugin; action: 'disable' | 'uninstall' }) =>
      action === 'uninstall' ? api('DELETE', `/api/admin/plugins/${plugin.id}`) : api('POST', `/api/admin/plugins/${plugin.id}/disable`),
    onSuccess: refresh,
  });

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Plugins</Title>
        <FileButton accept=".hpkg,.tar,.gz,.zip,application/octet-stream" onChange={(file) => file !== null && upload.mutate(file)}>
          {(props) => (
            <Button {...props} loading={upload.isPending}>
              Install a package
            </Button>
          )}
        </FileButton>
      </Group>
      <Text size="sm" c="dimmed">
        Plugins add features to the running panel. Each does only what you allow it on its consent screen.
      </Text>
      {upload.isError && <ErrorNotice error={upload.error} />}
      {act.isError && <ErrorNotice error={act.error} />}
      {plugins.isPending && <Loader aria-label="Loading plugins" />}
      {plugins.isError && <ErrorNotice error={plugins.error} />}
      {plugins.data?.length === 0 && <Empty title="No plugins installed">Install a signed package to add a feature.</Empty>}
      {plugins.data?.map((plugin) => (
        <Card key={plugin.id} withBorder data-testid="plugin">
          <Group justify="space-between" wrap="wrap" align="flex-start">
            <div style={{ flex: '1 1 280px' }}>
              <Group gap="xs">
                <Text fw={600}>{plugin.name ?? plugin.id}</Text>
                <Text size="xs" c="dimmed">
                  {plugin.id} {plugin.version}
                </Text>
                <Badge size="sm" color={STATE_COLOR[plugin.state]}>
                  {plugin.state}
                </Badge>
                <Badge size="sm" variant="outline" color={plugin.trusted_code ? 'orange' : 'blue'}>
                  {plugin.trusted_code ? 'native' : 'sandboxed'}
                </Badge>
              </Group>
              {plugin.description !== null && (
                <Text size="sm" c="dimmed" mt={4}>
                  {plugin.description}
                </Text>
              )}
              {plugin.error !== undefined && (
                <Text size="sm" c="red" mt={4}>
                  {plugin.error}
                </Text>
              )}
            </div>
            <Group gap="xs">
              {plugin.state === 'enabled' ? (
                <Button size="xs" variant="default" loading={act.isPending && act.variables.plugin.id === plugin.id} onClick={() => act.mutate({ plugin, action: 'disable' })}>
                  Disable
                </Button>
              ) : (
                <Button size="xs" onClick={() => setConsenting(plugin)}>
                  Enable…
                </Button>
              )}
              <Button size="xs" variant="default" onClick={() => setConfiguring(plugin)}>
                Settings
              </Button>
              <Button
                size="xs"
                variant="subtle"
                color="red"
                onClick={() => {
                  if (window.confirm(`Uninstall ${plugin.name ?? plugin.id}? Its data is kept unless you purge it from the command line.`)) {
                    act.mutate({ plugin, action: 'uninstall' });
                  }
                }}
              >
                Uninstall
              </Button>
            </Group>
          </Group>
        </Card>
      ))}
      {consenting !== null && <Consent plugin={consenting} onClose={() => setConsenting(null)} onDone={refresh} />}
      {configuring !== null && <Settings plugin={configuring} onClose={() => setConfiguring(null)} />}
    </Stack>
  );
}

/** What the plugin asks for, each ticked by default; enabling grants what stays ticked. */
function Consent(props: { plugin: Plugin; onClose: () => void; onDone: () => Promise<unknown> }) {
  const { plugin } = props;
  const [chosen, setChosen] = useState(new Set(plugin.consent.map((item) => item.grant)));
  const enable = useMutation({
    mutationFn: () => api('POST', `/api/admin/plugins/${plugin.id}/enable`, { grants: grantsFrom([...chosen]) }),
    onSuccess: async () => {
      await props.onDone();
      props.onClose();
    },
  });
  return (
    <Modal opened onClose={props.onClose} title={`Enable ${plugin.name ?? plugin.id}?`} size="lg">
      <Stack>
        {plugin.trusted_code && (
          <Alert color="orange" title="Native code">
            This plugin runs as native code inside the panel: it is not sandboxed, and could do anything the
            panel can. Enable it only if you trust who signed it.
          </Alert>
        )}
        {plugin.runs_on_nodes && (
          <Alert color="blue">Every node's wings runs a part of this plugin too.</Alert>
        )}
        {plugin.consent.length === 0 ? (
          <Text size="sm">It asks for nothing beyond its own routes and pages.</Text>
        ) : (
          <>
            <Text size="sm">It asks to:</Text>
            <Stack gap={6} data-testid="consent">
              {plugin.consent.map((item) => (
                <Checkbox
                  key={item.grant}
                  label={item.allows}
                  description={item.grant}
                  checked={chosen.has(item.grant)}
                  onChange={(event) => setChosen(toggled(chosen, [item.grant], event.currentTarget.checked))}
                />
              ))}
            </Stack>
            <Text size="xs" c="dimmed">
              Untick what you do not want to allow; the plugin is told no when it tries.
            </Text>
          </>
        )}
        {enable.isError && <ErrorNotice error={enable.error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            Not now
          </Button>
          <Button onClick={() => enable.mutate()} loading={enable.isPending}>
            Enable
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

interface PluginSettings {
  schema: unknown;
  values: Record<string, unknown>;
  sealed_set: string[];
}

function Settings(props: { plugin: Plugin; onClose: () => void }) {
  const settings = useQuery({
    queryKey: ['admin', 'plugins', props.plugin.id, 'settings'],
    queryFn: () => api<PluginSettings>('GET', `/api/admin/plugins/${props.plugin.id}/settings`),
    retry: false,
  });
  return (
    <Modal opened onClose={props.onClose} title={`Settings of ${props.plugin.name ?? props.plugin.id}`} size="lg">
      {settings.isPending && <Loader aria-label="Loading settings" />}
      {settings.isError && <ErrorNotice error={settings.error} />}
      {settings.data !== undefined && <SettingsForm plugin={props.plugin} settings={settings.data} onClose={props.onClose} />}
    </Modal>
  );
}

function SettingsForm(props: { plugin: Plugin; settings: PluginSettings; onClose: () => void }) {
  const queries = useQueryClient();
  const fields = settingFields(props.settings.schema);
  const [values, setValues] = useState<Record<string, unknown>>(props.settings.values);
  const save = useMutation({
    mutationFn: () =>
      api('PUT', `/api/admin/plugins/${props.plugin.id}/settings`, Object.fromEntries(
        // Sealed settings left empty keep their values.
        Object.entries(values).filter(([key, value]) => !(fields.some((f) => f.key === key && f.kind === 'text' && f.sealed) && value === '')),
      )),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['admin', 'plugins', props.plugin.id, 'settings'] });
      props.onClose();
    },
  });
  // The panel names a setting by its JSON pointer.
  const errorFor = (key: string) => fieldError(save.error, `/${key}`);

  if (fields.length === 0) {
    return <Empty title="No settings">This plugin has nothing to set.</Empty>;
  }
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <Stack>
        {fields.map((field) => (
          <SettingControl
            key={field.key}
            field={field}
            value={values[field.key]}
            sealedSet={props.settings.sealed_set.includes(field.key)}
            error={errorFor(field.key)}
            onChange={(value) => setValues({ ...values, [field.key]: value })}
          />
        ))}
        {unplacedError(
          save.error,
          fields.map((field) => `/${field.key}`),
        ) && <ErrorNotice error={save.error} />}
        <FormButtons onCancel={props.onClose} saving={save.isPending} />
      </Stack>
    </form>
  );
}

function SettingControl(props: {
  field: SettingField;
  value: unknown;
  sealedSet: boolean;
  error: string | undefined;
  onChange: (value: unknown) => void;
}) {
  const { field } = props;
  const common = { label: field.title, description: field.description, error: props.error };
  switch (field.kind) {
    case 'text':
      if (field.options !== undefined) {
        return <Select {...common} data={field.options} value={typeof props.value === 'string' ? props.value : null} onChange={(value) => props.onChange(value)} />;
      }
      if (field.sealed) {
        return (
          <PasswordInput
            {...common}
            placeholder={props.sealedSet ? 'Set; leave empty to keep it' : 'Not set'}
            value={typeof props.value === 'string' ? props.value : ''}
            onChange={(event) => props.onChange(event.currentTarget.value)}
            autoComplete="off"
          />
        );
      }
      return <TextInput {...common} value={typeof props.value === 'string' ? props.value : ''} onChange={(event) => props.onChange(event.currentTarget.value)} />;
    case 'number':
      return (
        <NumberInput
          {...common}
          value={typeof props.value === 'number' ? props.value : ''}
          {...(field.min === undefined ? {} : { min: field.min })}
          {...(field.max === undefined ? {} : { max: field.max })}
          allowDecimal={!field.integer}
          onChange={(value) => props.onChange(value === '' ? undefined : Number(value))}
        />
      );
    case 'switch':
      return <Switch label={field.title} description={field.description} error={props.error} checked={props.value === true} onChange={(event) => props.onChange(event.currentTarget.checked)} />;
    case 'list':
      return <TagsInput {...common} value={Array.isArray(props.value) ? props.value.map(String) : []} onChange={props.onChange} />;
    case 'json':
      return (
        <JsonInput
          {...common}
          autosize
          minRows={3}
          defaultValue={JSON.stringify(props.value ?? null, null, 2)}
          onChange={(text) => {
            try {
              props.onChange(JSON.parse(text));
            } catch {
              // Left as it was until the text is JSON again.
            }
          }}
          validationError="Not JSON yet"
        />
      );
  }
}
