/** Shapes of the studio server's JSON (camelCase). See DESIGN.md, "HTTP contract". */

export interface User {
  id: string;
  email: string;
  hasFalKey: boolean;
}

export interface Credits {
  balance: number | null;
  currency: string | null;
}

export interface UserResponse {
  user: User;
}
