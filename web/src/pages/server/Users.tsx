import {
  Accordion,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  Modal,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { type Data, api, fieldError, unplacedError } from '../../lib/api';
import { type PermissionInfo, usePermissionCatalogue } from '../../lib/permissions';
import { can } from '../../lib/servers';
import { toggled } from '../../lib/sets';
import { Empty, ErrorNotice, FormButtons, When } from '../parts';
import { useCurrentServer } from './ServerLayout';

interface Subuser {
  user_uuid: string;
  username: string;
  email: string;
  permissions: string[];
  created_at: string;
}

/** Words for the groups permissions fall in (the part before the dot). */
const GROUPS: Record<string, string> = {
  websocket: 'Console',
  control: 'Control',
  user: 'Users',
  file: 'Files',
  backup: 'Backups',
  allocation: 'Network',
  startup: 'Startup',
  database: 'Databases',
  schedule: 'Schedules',
  settings: 'Settings',
  activity: 'Activity',
};

/** Permissions by group, in the catalogue's order. */
export function groupPermissions(permissions: PermissionInfo[]): [string, PermissionInfo[]][] {
  const groups = new Map<string, PermissionInfo[]>();
  for (const permission of permissions) {
    const prefix = permission.name.split('.')[0] ?? permission.name;
    const group = GROUPS[prefix] ?? prefix;
    groups.set(group, [...(groups.get(group) ?? []), permission]);
  }
  return [...groups.entries()];
}

/** The people who help run the server, and what each may do. */
export function UsersPage() {
  const server = useCurrentServer();
  const queries = useQueryClient();
  const base = `/api/client/servers/${server.short_id}/users`;
  const key = ['server', server.short_id, 'users'];
  const subusers = useQuery({
    queryKey: key,
    queryFn: () => api<Data<Subuser[]>>('GET', base).then((answer) => answer.data),
  });
  const [editing, setEditing] = useState<Subuser | 'new' | null>(null);
  const remove = useMutation({
    mutationFn: (subuser: Subuser) => api('DELETE', `${base}/${subuser.user_uuid}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });

  if (subusers.isPending) {
    return <Loader aria-label="Loading users" />;
  }
  if (subusers.isError) {
    return <ErrorNotice error={subusers.error} />;
  }
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          Subusers sign in with their own accounts and may do only what is ticked for them.
        </Text>
        {can(server.permissions, 'user.create') && (
          <Button size="xs" onClick={() => setEditing('new')}>
            Add a user
          </Button>
        )}
      </Group>
      {remove.isError && <ErrorNotice error={remove.error} />}
      {subusers.data.length === 0 && (
        <Empty title="No subusers">Add someone by the email address of their account.</Empty>
      )}
      {subusers.data.map((subuser) => (
        <Card key={subuser.user_uuid} withBorder padding="sm" data-testid="subuser">
          <Group justify="space-between" wrap="wrap">
            <div>
              <Text fw={500}>{subuser.username}</Text>
              <Text size="sm" c="dimmed">
                {subuser.email} · added <When at={subuser.created_at} />
              </Text>
            </div>
            <Group gap="xs">
              <Badge variant="light">{subuser.permissions.length} permissions</Badge>
              {can(server.permissions, 'user.update') && (
                <Button size="xs" variant="default" onClick={() => setEditing(subuser)}>
                  Edit
                </Button>
              )}
              {can(server.permissions, 'user.delete') && (
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  loading={remove.isPending && remove.variables.user_uuid === subuser.user_uuid}
                  onClick={() => {
                    if (window.confirm(`Remove ${subuser.username} from this server?`)) {
                      remove.mutate(subuser);
                    }
                  }}
                >
                  Remove
                </Button>
              )}
            </Group>
          </Group>
        </Card>
      ))}
      {editing !== null && (
        <SubuserForm
          base={base}
          subuser={editing === 'new' ? null : editing}
          mine={server.permissions}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            void queries.invalidateQueries({ queryKey: key });
          }}
        />
      )}
    </Stack>
  );
}

function SubuserForm(props: {
  base: string;
  subuser: Subuser | null;
  mine: string[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const catalogue = usePermissionCatalogue();
  const [email, setEmail] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(new Set(props.subuser?.permissions ?? []));
  const save = useMutation({
    mutationFn: () =>
      props.subuser === null
        ? api('POST', props.base, { email, permissions: [...chosen] })
        : api('POST', `${props.base}/${props.subuser.user_uuid}`, { permissions: [...chosen] }),
    onSuccess: props.onSaved,
  });
  const toggle = (names: string[], on: boolean) => setChosen(toggled(chosen, names, on));
  const emailError = fieldError(save.error, 'email');

  return (
    <Modal
      opened
      onClose={props.onClose}
      title={props.subuser === null ? 'Add a user' : `Permissions of ${props.subuser.username}`}
      size="lg"
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          {props.subuser === null && (
            <TextInput
              label="Email address"
              description="The address of their account on this panel."
              type="email"
              required
              value={email}
              onChange={(event) => setEmail(event.currentTarget.value)}
              error={emailError}
              data-autofocus
            />
          )}
          {catalogue.isPending && <Loader size="sm" aria-label="Loading permissions" />}
          {catalogue.isError && <ErrorNotice error={catalogue.error} />}
          {catalogue.data !== undefined && (
            <Accordion multiple variant="contained" defaultValue={[]}>
              {groupPermissions(catalogue.data.server).map(([group, permissions]) => {
                const grantable = permissions.filter((permission) => can(props.mine, permission.name));
                const ticked = permissions.filter((permission) => chosen.has(permission.name)).length;
                return (
                  <Accordion.Item key={group} value={group}>
                    <Accordion.Control>
                      <Group justify="space-between" pr="sm">
                        <Text size="sm" fw={500}>
                          {group}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {ticked} of {permissions.length}
                        </Text>
                      </Group>
                    </Accordion.Control>
                    <Accordion.Panel>
                      <Stack gap={6}>
                        <Checkbox
                          label="All of them"
                          checked={grantable.length > 0 && grantable.every((permission) => chosen.has(permission.name))}
                          disabled={grantable.length === 0}
                          onChange={(event) =>
                            toggle(
                              grantable.map((permission) => permission.name),
                              event.currentTarget.checked,
                            )
                          }
                        />
                        {permissions.map((permission) => (
                          <Checkbox
                            key={permission.name}
                            label={permission.description}
                            description={permission.name}
                            checked={chosen.has(permission.name)}
                            disabled={!can(props.mine, permission.name)}
                            onChange={(event) => toggle([permission.name], event.currentTarget.checked)}
                          />
                        ))}
                      </Stack>
                    </Accordion.Panel>
                  </Accordion.Item>
                );
              })}
            </Accordion>
          )}
          {unplacedError(save.error, props.subuser === null ? ['email'] : []) && <ErrorNotice error={save.error} />}
          <FormButtons onCancel={props.onClose} saving={save.isPending} submit={props.subuser === null ? 'Add' : 'Save'} />
        </Stack>
      </form>
    </Modal>
  );
}
