import {
  Button,
  Card,
  Code,
  Group,
  Loader,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { type Data, api } from '../../lib/api';
import { fieldFor, isRequired } from '../../lib/rules';
import { can } from '../../lib/servers';
import { Empty, ErrorNotice } from '../parts';
import { useCurrentServer } from './ServerLayout';

interface Variable {
  name: string;
  description: string;
  env_variable: string;
  default_value: string;
  value: string;
  is_editable: boolean;
  rules: string;
}

interface Startup {
  startup: string;
  image: string;
  images: Record<string, string>;
  variables: Variable[];
}

/** The startup command, the docker image and the egg's variables, each saved on its own. */
export function StartupPage() {
  const server = useCurrentServer();
  const key = ['server', server.short_id, 'startup'];
  const queries = useQueryClient();
  const startup = useQuery({
    queryKey: key,
    queryFn: () =>
      api<Data<Startup>>('GET', `/api/client/servers/${server.short_id}/startup`).then(
        (answer) => answer.data,
      ),
  });
  const image = useMutation({
    mutationFn: (chosen: string) =>
      api('PUT', `/api/client/servers/${server.short_id}/settings/docker-image`, { image: chosen }),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });

  if (startup.isPending) {
    return <Loader aria-label="Loading startup settings" />;
  }
  if (startup.isError) {
    return <ErrorNotice error={startup.error} />;
  }
  const images = Object.entries(startup.data.images);
  const mayEdit = can(server.permissions, 'startup.update');
  return (
    <Stack>
      <Card withBorder>
        <Text fw={500} mb={4}>
          Startup command
        </Text>
        <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
          {startup.data.startup}
        </Code>
      </Card>
      <Card withBorder>
        <Select
          label="Docker image"
          description="The image the server runs in; a change applies at the next start."
          data={
            images.length > 0
              ? images.map(([label, value]) => ({ label: `${label} (${value})`, value }))
              : [{ label: startup.data.image, value: startup.data.image }]
          }
          value={startup.data.image}
          disabled={!can(server.permissions, 'startup.docker-image') || images.length < 2 || image.isPending}
          onChange={(chosen) => {
            if (chosen !== null && chosen !== startup.data.image) {
              image.mutate(chosen);
            }
          }}
          allowDeselect={false}
        />
        {image.isError && <ErrorNotice error={image.error} />}
      </Card>
      <Title order={3}>Variables</Title>
      {startup.data.variables.length === 0 ? (
        <Empty title="No variables">This server's egg has no variables you can see.</Empty>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          {startup.data.variables.map((variable) => (
            <VariableField
              key={variable.env_variable}
              serverId={server.short_id}
              variable={variable}
              editable={mayEdit && variable.is_editable}
              onSaved={(saved) => {
                queries.setQueryData(key, saved);
              }}
            />
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}

/** One variable: the control its rules want, saved on its own, its error under it. */
function VariableField(props: {
  serverId: string;
  variable: Variable;
  editable: boolean;
  onSaved: (startup: Startup) => void;
}) {
  const { variable } = props;
  const [value, setValue] = useState(variable.value);
  const field = fieldFor(variable.rules);
  const save = useMutation({
    mutationFn: (next: string) =>
      api<Data<Startup>>('PUT', `/api/client/servers/${props.serverId}/startup/variable`, {
        key: variable.env_variable,
        value: next,
      }).then((answer) => answer.data),
    onSuccess: props.onSaved,
  });
  const changed = value !== variable.value;
  const commit = (next: string) => {
    if (next !== variable.value) {
      save.mutate(next);
    } else {
      save.reset();
    }
  };
  const label = (
    <>
      {variable.name}{' '}
      <Text span size="xs" c="dimmed" ff="monospace">
        {variable.env_variable}
      </Text>
    </>
  );
  const description = variable.description + (props.editable ? '' : ' (read only)');
  const common = {
    label,
    description,
    error: save.error?.message,
    disabled: !props.editable,
    required: isRequired(variable.rules),
  };

  let control;
  if (field.kind === 'switch') {
    control = (
      <Switch
        {...common}
        checked={value === '1' || value === 'true'}
        onChange={(event) => {
          const next = event.currentTarget.checked ? '1' : '0';
          setValue(next);
          commit(next);
        }}
      />
    );
  } else if (field.kind === 'select') {
    control = (
      <Select
        {...common}
        data={field.options}
        value={value}
        allowDeselect={false}
        onChange={(next) => {
          if (next !== null) {
            setValue(next);
            commit(next);
          }
        }}
      />
    );
  } else if (field.kind === 'number') {
    control = (
      <NumberInput
        {...common}
        value={value}
        {...(field.min === undefined ? {} : { min: field.min })}
        {...(field.max === undefined ? {} : { max: field.max })}
        allowDecimal={!field.integer}
        clampBehavior="none"
        onChange={(next) => {
          setValue(String(next));
        }}
        onBlur={() => {
          commit(value);
        }}
      />
    );
  } else {
    control = (
      <TextInput
        {...common}
        value={value}
        onChange={(event) => {
          setValue(event.currentTarget.value);
        }}
        onBlur={() => {
          commit(value);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') {
            commit(value);
          }
        }}
        placeholder={variable.default_value === '' ? undefined : `Default: ${variable.default_value}`}
      />
    );
  }
  return (
    <Card withBorder>
      {control}
      <Group justify="flex-end" mt={6} gap="xs" mih={24}>
        {save.isPending && <Loader size="xs" aria-label="Saving" />}
        {save.isSuccess && !changed && (
          <Text size="xs" c="green" role="status">
            Saved
          </Text>
        )}
        {props.editable && changed && !save.isPending && field.kind !== 'switch' && field.kind !== 'select' && (
          <Button size="compact-xs" variant="subtle" onClick={() => commit(value)}>
            Save
          </Button>
        )}
      </Group>
    </Card>
  );
}
