// `react/jsx-runtime` for plugin modules built with the automatic JSX transform.
export { Fragment, jsx, jsxs } from 'react/jsx-runtime';
