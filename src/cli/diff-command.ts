export const diffCommand = undefined as any;
