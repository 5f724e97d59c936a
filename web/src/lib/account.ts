import { useQuery } from '@tanstack/react-query';

import { type Data, api } from './api';

export interface Account {
  id: number;
  uuid: string;
  username: string;
  email: string;
  admin: boolean;
  language: string;
}

/** The signed-in account; an `ApiError` with status 401 when nobody is. */
export function useAccount() {
  return useQuery({
    queryKey: ['account'],
    queryFn: () => api<Data<Account>>('GET', '/api/client/account').then((answer) => answer.data),
    staleTime: 30_000,
  });
}
