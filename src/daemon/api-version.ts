export const API_VERSION = 'v1';
