import { useQuery } from '@tanstack/react-query';

import { type Data, api } from './api';

export interface PermissionInfo {
  name: string;
  description: string;
}

/** Every permission there is: admin ones for roles, server ones for subusers (plugins' too). */
export function usePermissionCatalogue() {
  return useQuery({
    queryKey: ['permissions'],
    queryFn: () =>
      api<Data<{ admin: PermissionInfo[]; server: PermissionInfo[] }>>('GET', '/api/permissions').then(
        (answer) => answer.data,
      ),
    staleTime: 300_000,
  });
}
