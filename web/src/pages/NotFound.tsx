// The page of a path routes.ts does not list: the app header, what was asked for, and the way back.
import { useEffect } from "react";
import { setTitle } from "../brand";
import { AppNav, Link } from "./AppNav";

export function NotFound({ path, navigate }: { path: string; navigate: (path: string) => void }) {
  useEffect(() => setTitle("Not found"), []);
  return (
    <div className="flow-list-page" data-testid="not-found">
      <AppNav current="" navigate={navigate} title={<span className="flow-title">Not found</span>} />
      <div className="page-message">
        <p>
          There is no page <code>{path}</code>.
        </p>
        <Link to="/flows" navigate={navigate} className="btn" testId="not-found-home">
          Go to the flows
        </Link>
      </div>
    </div>
  );
}
