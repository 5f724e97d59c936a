// Lists the API answers a page at a time (`{data, meta}`), searched by name.

import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { api } from './api';

export interface Paged<T> {
  data: T[];
  meta: { page: number; per_page: number; total: number; last_page: number };
}

/**
 * Page `page` of `path` matching what was typed into the search (asked once typing
 * pauses); a new search starts at page 1, and the last page stays shown meanwhile.
 */
export function usePagedSearch<T>(queryKey: readonly unknown[], path: string, perPage: number) {
  const [page, setPage] = useState(1);
  const [search, setSearchText] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const query = useQuery({
    queryKey: [...queryKey, page, debounced],
    queryFn: () =>
      api<Paged<T>>(
        'GET',
        `${path}?page=${page}&per_page=${perPage}${debounced === '' ? '' : `&search=${encodeURIComponent(debounced)}`}`,
      ),
    placeholderData: keepPreviousData,
  });
  const setSearch = (text: string) => {
    setSearchText(text);
    setPage(1);
  };
  return { query, page, setPage, search, setSearch };
}
