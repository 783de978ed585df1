// Placeholder until the admin pages land: routes /admin/<page> to its page component.
export const ADMIN_LINKS: [string, string][] = [];

export function AdminPages({ page }: { page: string; navigate: (path: string) => void }) {
  return <div className="page-message">No admin page {page}</div>;
}
