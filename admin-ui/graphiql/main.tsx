/**
 * GraphiQL at /graphiql (served by server/explorer/plugin.ts): the `graphiql` package bundled by
 * the admin UI's Vite build, Monaco's workers included, so nothing is loaded from a CDN.
 */
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { GraphiQL, type GraphiQLProps } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const ENDPOINT = '/graphql';

const DEFAULT_QUERY = `# GraphQL of this xrm-platform instance.
# Types: the Docs panel (book icon, top left).
# Complete: Ctrl-Space. Run: Ctrl-Enter.

{
  __schema {
    queryType { fields { name description } }
  }
}
`;

/** Plain POSTs to /graphql; errors come back in the GraphQL `errors` array, whatever the status. */
const fetcher: GraphiQLProps['fetcher'] = async (params, options) => {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options?.headers },
    body: JSON.stringify(params),
  });
  return response.json();
};

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY}>
      <GraphiQL.Logo>
        <a className="graphiql-logo-link" href="/admin">
          xrm admin
        </a>
        {' · '}Graph<em>i</em>QL
      </GraphiQL.Logo>
    </GraphiQL>
  </StrictMode>,
);
