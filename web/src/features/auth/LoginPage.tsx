import { AuthForm } from './AuthForm';

export function LoginPage() {
  return <AuthForm key="login" mode="login" />;
}
