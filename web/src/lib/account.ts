import { useQuery } from '@tanstack/react-query';

import type { User } from './admin';
import { type Data, api } from './api';

/** The signed-in user, with what they may administer. */
export interface Account extends User {
  /** Admin permissions the account's role gives (root administrators hold all). */
  permissions: string[];
}

/** Whether the account may use an admin permission. */
export function mayAdminister(account: Account | undefined, permission: string): boolean {
  return (
    account !== undefined &&
    (account.admin || account.permissions.includes('*') || account.permissions.includes(permission))
  );
}

/** The signed-in account; an `ApiError` with status 401 when nobody is. */
export function useAccount() {
  return useQuery({
    queryKey: ['account'],
    queryFn: () => api<Data<Account>>('GET', '/api/client/account').then((answer) => answer.data),
    staleTime: 30_000,
  });
}
