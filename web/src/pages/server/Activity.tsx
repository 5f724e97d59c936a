import { ActivityList } from '../ActivityList';
import { useCurrentServer } from './ServerLayout';

export function ActivityPage() {
  const server = useCurrentServer();
  return (
    <ActivityList
      path={`/api/client/servers/${server.short_id}/activity`}
      queryKey={['server', server.short_id, 'activity']}
    />
  );
}
