/** Bottleneck's build without Redis, the one @octokit/plugin-throttling uses: the same API and types. */
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
