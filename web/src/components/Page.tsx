import { useEffect, type ReactNode } from 'react';

interface PageProps {
  title: string;
  children: ReactNode;
  narrow?: boolean;
  /** For work surfaces with a sidebar (the studio). */
  wide?: boolean;
}

/** A page with its heading; also keeps `document.title` in step. */
export function Page({ title, children, narrow = false, wide = false }: PageProps) {
  useEffect(() => {
    document.title = `${title} · fal-studio`;
  }, [title]);
  return (
    <section className={narrow ? 'page page-narrow' : wide ? 'page page-wide' : 'page'}>
      <h1>{title}</h1>
      {children}
    </section>
  );
}
