// The admin pages, one chunk loaded the first time an administrator opens one.

export { EggsPage } from './Eggs';
export { NodePage, NodesPage } from './Nodes';
export { OverviewPage } from './Overview';
export { AdminActivityPage, RolesPage, UsersPage } from './People';
export { PluginsPage } from './Plugins';
export { AdminServersPage, CreateServerPage } from './Servers';
