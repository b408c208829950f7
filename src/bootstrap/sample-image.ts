// The sample app's image tag, apart from its builder: the CLI names it in every start.
export const SAMPLE_IMAGE = 'berth/hello:1';
