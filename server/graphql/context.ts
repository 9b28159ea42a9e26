/**
 * The per-request GraphQL context: the records service and one DataLoader per entity, so every
 * lookup (`employee { manager { ... } }`) across a response is fetched in one batched query.
 */
import DataLoader from 'dataloader';
import type { RecordJson, RecordsService } from '../records/service.ts';

export class RecordLoaders {
  readonly #records: RecordsService;
  readonly #byEntity = new Map<string, DataLoader<string, RecordJson | null>>();

  constructor(records: RecordsService) {
    this.#records = records;
  }

  #loader(entity: string): DataLoader<string, RecordJson | null> {
    let loader = this.#byEntity.get(entity);
    if (!loader) {
      loader = new DataLoader((ids) => this.#records.getMany(entity, ids), { maxBatchSize: this.#records.maxPageSize });
      this.#byEntity.set(entity, loader);
    }
    return loader;
  }

  load(entity: string, id: string): Promise<RecordJson | null> {
    return this.#loader(entity).load(id);
  }

  /** Remembers a record this request just read or wrote. */
  prime(entity: string, record: RecordJson): void {
    this.#loader(entity).clear(record.id).prime(record.id, record);
  }

  forget(entity: string, id: string): void {
    this.#loader(entity).clear(id);
  }
}

export interface GraphqlContext {
  readonly records: RecordsService;
  readonly loaders: RecordLoaders;
}

export function createContext(records: RecordsService): GraphqlContext {
  return { records, loaders: new RecordLoaders(records) };
}
