// Users, roles and the activity log.

import {
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  Modal,
  Pagination,
  PasswordInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { mayAdminister, useAccount } from '../../lib/account';
import type { Role, User } from '../../lib/admin';
import { type Data, api, fieldError as fieldErrorOf, unplacedError } from '../../lib/api';
import { usePagedSearch } from '../../lib/paged';
import { usePermissionCatalogue } from '../../lib/permissions';
import { toggled } from '../../lib/sets';
import { ActivityList } from '../ActivityList';
import { Empty, ErrorNotice, FormButtons, When } from '../parts';

function useRoles(enabled = true) {
  return useQuery({
    queryKey: ['admin', 'roles'],
    queryFn: () => api<Data<Role[]>>('GET', '/api/admin/roles').then((answer) => answer.data),
    enabled,
  });
}

export function UsersPage() {
  const account = useAccount();
  const queries = useQueryClient();
  const { query: users, page, setPage, search, setSearch } = usePagedSearch<User>(
    ['admin', 'users'],
    '/api/admin/users',
    50,
  );
  const roles = useRoles(mayAdminister(account.data, 'roles.read'));
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const remove = useMutation({
    mutationFn: (user: User) => api('DELETE', `/api/admin/users/${user.uuid}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['admin', 'users'] }),
  });
  const roleName = (id: number | null) => roles.data?.find((role) => role.id === id)?.name;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Users</Title>
        {mayAdminister(account.data, 'users.create') && <Button onClick={() => setEditing('new')}>Add a user</Button>}
      </Group>
      <TextInput placeholder="Search by name or e-mail" aria-label="Search users" value={search} onChange={(e) => setSearch(e.currentTarget.value)} maw={320} />
      {users.isPending && <Loader aria-label="Loading users" />}
      {users.isError && <ErrorNotice error={users.error} />}
      {remove.isError && <ErrorNotice error={remove.error} />}
      {users.data?.data.length === 0 && <Empty title="No one matches">Try another name.</Empty>}
      {users.data !== undefined && users.data.data.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table highlightOnHover style={{ opacity: users.isPlaceholderData ? 0.6 : 1 }}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>User</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Since</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {users.data.data.map((user) => (
                <Table.Tr key={user.uuid}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {user.username}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {user.email}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {user.admin ? <Badge color="red">Root administrator</Badge> : (roleName(user.role_id) ?? '—')}
                  </Table.Td>
                  <Table.Td>
                    <When at={user.created_at} />
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      {mayAdminister(account.data, 'users.update') && (
                        <Button size="compact-xs" variant="default" onClick={() => setEditing(user)}>
                          Edit
                        </Button>
                      )}
                      {mayAdminister(account.data, 'users.delete') && user.uuid !== account.data?.uuid && (
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          onClick={() => {
                            if (window.confirm(`Delete ${user.username}? Their servers must be given to someone else or deleted first.`)) {
                              remove.mutate(user);
                            }
                          }}
                        >
                          Delete
                        </Button>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {users.data !== undefined && users.data.meta.last_page > 1 && (
        <Pagination total={users.data.meta.last_page} value={page} onChange={setPage} size="sm" />
      )}
      {editing !== null && (
        <UserForm
          user={editing === 'new' ? null : editing}
          roles={roles.data ?? []}
          rootAdmin={account.data?.admin === true}
          onClose={() => setEditing(null)}
        />
      )}
    </Stack>
  );
}

function UserForm(props: { user: User | null; roles: Role[]; rootAdmin: boolean; onClose: () => void }) {
  const queries = useQueryClient();
  const [form, setForm] = useState({
    username: props.user?.username ?? '',
    email: props.user?.email ?? '',
    password: '',
    admin: props.user?.admin ?? false,
    role_id: props.user?.role_id ?? null,
  });
  const save = useMutation({
    mutationFn: () => {
      const body = {
        username: form.username,
        email: form.email,
        role_id: form.role_id,
        ...(props.rootAdmin ? { admin: form.admin } : {}),
        ...(form.password === '' ? {} : { password: form.password }),
      };
      return props.user === null
        ? api('POST', '/api/admin/users', body)
        : api('PATCH', `/api/admin/users/${props.user.uuid}`, body);
    },
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['admin', 'users'] });
      props.onClose();
    },
  });
  return (
    <Modal opened onClose={props.onClose} title={props.user === null ? 'Add a user' : `Edit ${props.user.username}`}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <TextInput label="Username" required value={form.username} onChange={(e) => setForm({ ...form, username: e.currentTarget.value })} error={fieldErrorOf(save.error, 'username')} data-autofocus />
          <TextInput label="E-mail" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.currentTarget.value })} error={fieldErrorOf(save.error, 'email')} />
          <PasswordInput
            label="Password"
            description={props.user === null ? 'Empty: they set one through a reset e-mail.' : 'Empty keeps the current one.'}
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
            error={fieldErrorOf(save.error, 'password')}
            autoComplete="new-password"
          />
          <Select
            label="Role"
            description="What they may administer."
            clearable
            data={props.roles.map((role) => ({ value: String(role.id), label: role.name }))}
            value={form.role_id === null ? null : String(form.role_id)}
            onChange={(value) => setForm({ ...form, role_id: value === null ? null : Number(value) })}
            error={fieldErrorOf(save.error, 'role_id')}
          />
          {props.rootAdmin && (
            <Switch
              label="Root administrator (holds every permission)"
              checked={form.admin}
              onChange={(e) => setForm({ ...form, admin: e.currentTarget.checked })}
            />
          )}
          {unplacedError(save.error, ['username', 'email', 'password', 'role_id']) && <ErrorNotice error={save.error} />}
          <FormButtons onCancel={props.onClose} saving={save.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}

export function RolesPage() {
  const account = useAccount();
  const queries = useQueryClient();
  const roles = useRoles();
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const remove = useMutation({
    mutationFn: (role: Role) => api('DELETE', `/api/admin/roles/${role.id}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['admin', 'roles'] }),
  });
  const mayManage = mayAdminister(account.data, 'roles.manage');
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Roles</Title>
        {mayManage && <Button onClick={() => setEditing('new')}>Add a role</Button>}
      </Group>
      <Text size="sm" c="dimmed">
        A role gives staff some admin permissions without making them root administrators.
      </Text>
      {roles.isPending && <Loader aria-label="Loading roles" />}
      {roles.isError && <ErrorNotice error={roles.error} />}
      {remove.isError && <ErrorNotice error={remove.error} />}
      {roles.data?.length === 0 && <Empty title="No roles yet">Add one for staff who help run the panel.</Empty>}
      {roles.data?.map((role) => (
        <Card key={role.id} withBorder padding="sm">
          <Group justify="space-between" wrap="wrap">
            <div>
              <Text fw={500}>{role.name}</Text>
              <Text size="xs" c="dimmed">
                {role.description === '' ? `${role.permissions.length} permissions` : role.description}
              </Text>
            </div>
            {mayManage && (
              <Group gap={4}>
                <Button size="compact-xs" variant="default" onClick={() => setEditing(role)}>
                  Edit
                </Button>
                <Button
                  size="compact-xs"
                  variant="subtle"
                  color="red"
                  onClick={() => {
                    if (window.confirm(`Delete the role ${role.name}? Its holders lose its permissions.`)) {
                      remove.mutate(role);
                    }
                  }}
                >
                  Delete
                </Button>
              </Group>
            )}
          </Group>
        </Card>
      ))}
      {editing !== null && <RoleForm role={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
    </Stack>
  );
}

function RoleForm(props: { role: Role | null; onClose: () => void }) {
  const queries = useQueryClient();
  const catalogue = usePermissionCatalogue();
  const [name, setName] = useState(props.role?.name ?? '');
  const [description, setDescription] = useState(props.role?.description ?? '');
  const [chosen, setChosen] = useState(new Set(props.role?.permissions ?? []));
  const save = useMutation({
    mutationFn: () => {
      const body = { name, description, permissions: [...chosen] };
      return props.role === null ? api('POST', '/api/admin/roles', body) : api('PATCH', `/api/admin/roles/${props.role.id}`, body);
    },
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['admin', 'roles'] });
      props.onClose();
    },
  });
  return (
    <Modal opened onClose={props.onClose} title={props.role === null ? 'Add a role' : `Edit ${props.role.name}`} size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldErrorOf(save.error, 'name')} data-autofocus />
          <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          {catalogue.isPending && <Loader size="sm" aria-label="Loading permissions" />}
          {catalogue.data !== undefined && (
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
              {catalogue.data.admin.map((permission) => (
                <Checkbox
                  key={permission.name}
                  label={permission.description}
                  description={permission.name}
                  checked={chosen.has(permission.name)}
                  onChange={(e) => setChosen(toggled(chosen, [permission.name], e.currentTarget.checked))}
                />
              ))}
            </SimpleGrid>
          )}
          {unplacedError(save.error, ['name']) && <ErrorNotice error={save.error} />}
          <FormButtons onCancel={props.onClose} saving={save.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}

export function AdminActivityPage() {
  return (
    <Stack>
      <Title order={2}>Activity</Title>
      <ActivityList path="/api/admin/activity" queryKey={['admin', 'activity']} />
    </Stack>
  );
}
